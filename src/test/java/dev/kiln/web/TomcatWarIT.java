package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.testing.Bytecode;
import dev.kiln.testing.Json;
import dev.kiln.testing.PrometheusText;
import dev.kiln.testing.RawHttp;

/**
 * The built {@code target/kiln.war} as it is, in a real Tomcat (context {@code /kiln}, see {@link TomcatServer}):
 * the bundled examples with real HTTP and real python3, what it refuses, where its bytecode goes.
 */
@ExtendWith(SharedTomcat.class)
class TomcatWarIT {
    private final TomcatServer tomcat;

    TomcatWarIT(TomcatServer shared) {
        this.tomcat = shared;
    }

    @Test
    void helloPy() throws Exception {
        HttpResponse<String> r = tomcat.get("/kiln/cgi-bin/hello.py");
        assertThat(r.statusCode()).as(tomcat.describe(r)).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/html"));
        assertThat(r.body()).contains("Hello, world!").contains("run by Kiln/");
    }

    @Test
    void envPyShowsTheCgiEnvironment() throws Exception {
        HttpResponse<String> r = tomcat.get("/kiln/cgi-bin/env.py?format=json&x=1");
        assertThat(r.statusCode()).as(tomcat.describe(r)).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        Map<String, Object> env = Json.map(r.body());
        assertThat(env).containsEntry("SCRIPT_NAME", "/kiln/cgi-bin/env.py")
                .containsEntry("QUERY_STRING", "format=json&x=1")
                .containsEntry("GATEWAY_INTERFACE", "CGI/1.1")
                .containsEntry("REQUEST_METHOD", "GET")
                .containsEntry("SERVER_PORT", Integer.toString(tomcat.port))
                .containsEntry("PATH_INFO", "")
                .containsEntry("SCRIPT_FILENAME",
                        tomcat.real("webapps/kiln/WEB-INF/cgi-bin/env.py").toString())
                .doesNotContainKey("PYTHONDONTWRITEBYTECODE")
                .doesNotContainKey(TomcatServer.SHELL_MARKER)      // default pass-env: PATH, LANG, LC_ALL, TZ only
                .doesNotContainKey("CATALINA_BASE")
                .doesNotContainKey("KILN_PYTHON");
        assertThat((String) env.get("SERVER_SOFTWARE")).startsWith("Kiln/");
        assertThat(env).containsEntry("PATH", "/usr/bin:/bin");
    }

    @Test
    void formPyEchoesAPostEscaped() throws Exception {
        String body = "name=" + enc("<b>Ann & Bob</b>") + "&msg=" + enc("1+2=3 \"quoted\"") + "&colour="
                + enc("kiln orange");
        HttpResponse<String> r = tomcat.send(tomcat.request("/kiln/cgi-bin/form.py")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
        assertThat(r.statusCode()).as(tomcat.describe(r)).isEqualTo(200);
        assertThat(r.body()).contains("Thank you")
                .contains("&lt;b&gt;Ann &amp; Bob&lt;/b&gt;")
                .contains("1+2=3 &quot;quoted&quot;")
                .contains("kiln orange")
                .doesNotContain("<b>Ann");
    }

    @Test
    void unknownKilnVariablesAreOneWarningAndServiceLinksAreIgnored() throws Exception {
        List<String> warnings = tomcat.log().lines().filter(l -> l.contains("ignoring environment variable")).toList();
        assertThat(warnings).as("one per webapp that builds a Kiln").isNotEmpty()
                .allSatisfy(l -> assertThat(l).contains("KILN_HOME").doesNotContain("KILN_PORT")
                        .doesNotContain("KILN_SERVICE_HOST"));
    }

    @Test
    void helloSh() throws Exception {
        HttpResponse<String> r = tomcat.get("/kiln/cgi-bin/hello.sh?a=b");
        assertThat(r.statusCode()).as(tomcat.describe(r)).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/plain"));
        assertThat(r.body()).contains("Hello from /bin/sh!")
                .containsPattern("Server software: Kiln/\\S+")
                .contains("Query string:    a=b");
    }

    @Test
    void indexLinksTheScripts() throws Exception {
        HttpResponse<String> r = tomcat.get("/kiln/");
        assertThat(r.statusCode()).as(tomcat.describe(r)).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/html"));
        for (String script : List.of("hello.py", "env.py", "form.py", "hello.sh", "imports.py")) {
            assertThat(r.body()).contains("href=\"/kiln/cgi-bin/" + script + "\"");
        }
        assertThat(r.body()).doesNotContain("README.txt").doesNotContain("kiln_demo/table.py")
                .contains("href=\"/kiln/kiln/\"");
    }

    @Test
    void statusPageMetricsHealthAndRequestIdsWorkInTheWar() throws Exception {
        HttpResponse<String> hello = tomcat.get("/kiln/cgi-bin/hello.py");
        assertThat(hello.headers().firstValue("X-Request-Id")).isPresent();
        assertThat(tomcat.get("/kiln/kiln/health").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = tomcat.get("/kiln/kiln/ready");
        assertThat(ready.statusCode()).as(tomcat.describe(ready)).isEqualTo(200);
        HttpResponse<String> metrics = tomcat.get("/kiln/kiln/metrics");
        assertThat(metrics.statusCode()).as(tomcat.describe(metrics)).isEqualTo(200);
        assertThat(PrometheusText.parse(metrics.body(), false)).extracting(PrometheusText.Sample::name)
                .contains("kiln_requests_total", "jvm_memory_used_bytes");
        HttpResponse<String> page = tomcat.get("/kiln/kiln/");
        assertThat(page.statusCode()).as(tomcat.describe(page)).isEqualTo(200);
        assertThat(page.body()).contains("<svg").contains("hello.py");
    }

    @Test
    void statusShowsTheCacheOutsideTheWebappAndItsWorkFolder() throws Exception {
        tomcat.get("/kiln/cgi-bin/hello.py"); // at least one Python request has run
        Map<String, Object> status = tomcat.status("/kiln");
        @SuppressWarnings("unchecked")
        Map<String, Object> cache = (Map<String, Object>) status.get("cache");
        Path folder = Path.of((String) cache.get("folder"));
        assertThat(folder).as("cache folder, which no redeploy empties").isEqualTo(tomcat.real("kiln/kiln/cache"))
                .isDirectory();
        assertThat(cache).containsEntry("mode", "rw").containsEntry("writable", true)
                .containsEntry("healthy", true);
        assertThat(Path.of((String) status.get("scripts")))
                .isEqualTo(tomcat.real("webapps/kiln/WEB-INF/cgi-bin"));
        assertThat(status.get("interpreters").toString()).contains(TomcatServer.PYTHON);
    }

    @Test
    void aTextFileIsNotRun() throws Exception {
        HttpResponse<String> r = tomcat.get("/kiln/cgi-bin/README.txt");
        assertThat(r.statusCode()).as(tomcat.describe(r)).isEqualTo(403);
        assertThat(r.body()).doesNotContain("Kiln example CGI scripts");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/kiln/cgi-bin/../WEB-INF/web.xml",
            "/kiln/cgi-bin/%2e%2e/WEB-INF/web.xml",
            "/kiln/cgi-bin/%2E%2E/%2E%2E/kiln/WEB-INF/web.xml",
            "/kiln/cgi-bin/..%2fWEB-INF%2fweb.xml",
            "/kiln/cgi-bin/..%5cWEB-INF%5cweb.xml",
            "/kiln/cgi-bin/hello.py/../../WEB-INF/web.xml",
            "/kiln/cgi-bin/./../WEB-INF/web.xml",
            "/kiln/cgi-bin//../WEB-INF/web.xml",
            "/kiln/WEB-INF/web.xml",
            "/kiln/cgi-bin/../WEB-INF/cgi-bin/README.txt"})
    void traversalDoesNotLeakWebXml(String path) throws Exception {
        RawHttp.Reply r = RawHttp.get(tomcat.port, path);
        assertThat(r.status()).as("answered %s", r.head()).isNotEqualTo(200).isBetween(400, 499);
        assertThat(r.body())
                .doesNotContain("dev.kiln.web.CgiServlet")
                .doesNotContain("<servlet-mapping>")
                .doesNotContain("Kiln example CGI scripts");
    }

    @Test
    void noBytecodeLandsInTheScriptsFolder() throws Exception {
        for (String path : List.of("/kiln/cgi-bin/hello.py", "/kiln/cgi-bin/env.py", "/kiln/cgi-bin/form.py",
                "/kiln/cgi-bin/imports.py", "/kiln/cgi-bin/imports.py")) {
            HttpResponse<String> r = tomcat.get(path);
            assertThat(r.statusCode()).as(tomcat.describe(r)).isEqualTo(200);
        }
        Bytecode.assertNoneUnder(tomcat.base.resolve("webapps/kiln/WEB-INF/cgi-bin"));
        // ... because it went to Kiln's cache instead
        @SuppressWarnings("unchecked")
        Map<String, Object> cache = (Map<String, Object>) tomcat.status("/kiln").get("cache");
        Path prefix = Path.of((String) cache.get("prefix"));
        assertThat(Bytecode.pycs(prefix)).as("bytecode in the cache %s", prefix)
                .anySatisfy(p -> assertThat(p.toString()).contains("kiln_demo").contains("table."));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
