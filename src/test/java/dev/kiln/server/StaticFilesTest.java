package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.Option;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.RawHttp;

/**
 * static: a URL prefix served from a folder by Jetty's resource handling (Apache's Alias), with content types,
 * ranges, validators and HEAD, and nothing else: no listings, no hidden files, no symlinks out, no scripts folder.
 */
class StaticFilesTest {
    private static final String CSS = "body { color: #333 }\n";

    @TempDir
    Path temp;

    @Test
    void servesFilesAsApacheAliasDoes() throws Exception {
        Path www = Files.createDirectories(temp.resolve("www/css"));
        Files.writeString(www.resolve("site.css"), CSS);
        Files.writeString(temp.resolve("www/.htpasswd"), "admin:secret\n");
        Files.writeString(temp.resolve("www/logo.png"), "not really a png");
        Files.writeString(temp.resolve("outside.txt"), "kept out\n");
        Files.createSymbolicLink(temp.resolve("www/out.txt"), temp.resolve("outside.txt"));
        Files.createSymbolicLink(temp.resolve("www/style.css"), www.resolve("site.css"));
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("trusted-proxies", "127.0.0.1")
                .option("static", "/gitweb/static/=" + temp.resolve("www") + Option.REPEATED_SEPARATOR
                        + "/img=" + temp.resolve("www")).start()) {
            kiln.script("hello.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhi\\n'\n");
            HttpResponse<String> css = kiln.get("/gitweb/static/css/site.css");
            assertThat(css.statusCode()).isEqualTo(200);
            assertThat(css.body()).isEqualTo(CSS);
            assertThat(css.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                    .startsWith("text/css"));
            assertThat(css.headers().firstValue("Last-Modified")).isPresent();
            String etag = css.headers().firstValue("ETag").orElseThrow();
            assertThat(kiln.get("/img/logo.png").headers().firstValue("Content-Type")).hasValue("image/png");

            HttpResponse<String> range = kiln.send(request(kiln, "/gitweb/static/css/site.css")
                    .header("Range", "bytes=0-3").build());
            assertThat(range.statusCode()).isEqualTo(206);
            assertThat(range.body()).isEqualTo("body");
            assertThat(range.headers().firstValue("Content-Range")).hasValue("bytes 0-3/" + CSS.length());
            assertThat(kiln.send(request(kiln, "/gitweb/static/css/site.css").header("If-None-Match", etag).build())
                    .statusCode()).isEqualTo(304);
            HttpResponse<String> head = kiln.send(request(kiln, "/gitweb/static/css/site.css")
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.headers().firstValue("Content-Length")).hasValue(Integer.toString(CSS.length()));
            assertThat(head.body()).isEmpty();

            assertThat(kiln.get("/gitweb/static/style.css").body()).as("a symlink inside the folder").isEqualTo(CSS);
            for (String refused : List.of("/gitweb/static/", "/gitweb/static/css/", "/gitweb/static/.htpasswd",
                    "/gitweb/static/%2ehtpasswd", "/gitweb/static/out.txt", "/gitweb/static/nothing.css")) {
                HttpResponse<String> r = kiln.get(refused);
                assertThat(r.statusCode()).as(refused).isIn(403, 404);
                assertThat(r.body()).as(refused).doesNotContain("secret", "kept out", "color");
            }
            for (String hostile : List.of("/gitweb/static/../cgi-bin/hello.sh", "/gitweb/static/%2e%2e/outside.txt",
                    "/gitweb/static/..%2f..%2foutside.txt", "/gitweb/static/css%2f..%2f.htpasswd")) {
                RawHttp.Reply r = RawHttp.get(kiln.port(), hostile);
                assertThat(r.status()).as(hostile).isIn(400, 403, 404);
                assertThat(r.body()).as(hostile).doesNotContain("secret", "kept out", "printf");
            }
            assertThat(kiln.get("/cgi-bin/hello.sh").body()).as("scripts still run").isEqualTo("hi\n");
            assertThat(kiln.get("/gitweb/static/css").headers().firstValue("Location"))
                    .hasValue("/gitweb/static/css/");
            assertThat(kiln.get("/img").headers().firstValue("Location")).hasValue("/img/");
            String viaProxy = RawHttp.exchange(kiln.port(), "GET /gitweb/static/css HTTP/1.1\r\nHost: k\r\n"
                    + "X-Forwarded-Prefix: /apps/kiln\r\nConnection: close\r\n\r\n").head();
            assertThat(viaProxy).as("a trusted proxy's prefix").contains("Location: /apps/kiln/gitweb/static/css/");
        }
    }

    @Test
    void aStaticFolderNeverHoldsNorSitsInAScriptsFolder() throws Exception {
        Files.createDirectories(temp.resolve("cgi-bin/static"));
        for (String folder : List.of(temp.toString(), temp.resolve("cgi-bin/static").toString())) {
            assertThatThrownBy(() -> KilnTestServer.builder(temp).option("static", "/s/=" + folder).start())
                    .isInstanceOf(ConfigException.class).hasMessageContaining("the scripts folder")
                    .hasMessageContaining("fix: keep static files in a folder of their own");
        }
        assertThatThrownBy(() -> KilnTestServer.builder(temp).option("static", "/s/=" + temp.resolve("none")).start())
                .isInstanceOf(ConfigException.class).hasMessageContaining("does not exist");
    }

    @Test
    void prefixesAreCheckedWhenTheConfigurationIsRead() {
        assertThat(statics("/a/=/srv/a,/b=/srv/x,y")).containsExactly(new KilnConfig.Alias("/a", Path.of("/srv/a")),
                new KilnConfig.Alias("/b", Path.of("/srv/x,y")));
        for (String overlap : List.of("/cgi-bin/static/=/srv/s", "/cgi-bin=/srv/s", "/kiln/x=/srv/s",
                "/a/=/srv/a,/a/b/=/srv/b")) {
            assertThatThrownBy(() -> statics(overlap)).as(overlap).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("overlap");
        }
        for (String bad : List.of("static=/srv/s", "/=/srv/s", "/a/../b=/srv/s", "/a%20b=/srv/s", "/a=", "//a=/s")) {
            assertThatThrownBy(() -> statics(bad)).as(bad).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("expected URL-PREFIX=FOLDER");
        }
    }

    private static List<KilnConfig.Alias> statics(String value) {
        return KilnConfig.resolve(List.of(new KilnConfig.Source("--static", Map.of("static", value))), Map.of())
                .routes().statics();
    }

    private static HttpRequest.Builder request(KilnTestServer kiln, String path) {
        return HttpRequest.newBuilder(kiln.uri(path));
    }
}
