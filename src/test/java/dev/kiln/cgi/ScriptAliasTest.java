package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.config.ConfigException;
import dev.kiln.config.Option;
import dev.kiln.testing.Bytecode;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.RawHttp;

/**
 * script-alias (Apache's ScriptAlias): more URL prefixes, each running the scripts of its own folder with
 * RFC 3875's SCRIPT_NAME and PATH_INFO, its own library files and writable-script checks, the shared cache, and
 * no way from one prefix into another's folder.
 */
class ScriptAliasTest {
    private static final String ENV = """
            #!/bin/sh
            printf 'Content-Type: text/plain\\n\\n'
            printf 'SCRIPT_NAME=%s\\nPATH_INFO=%s\\n' "$SCRIPT_NAME" "${PATH_INFO-unset}"
            """;

    @TempDir
    Path temp;

    @Test
    void eachPrefixRunsTheScriptsOfItsOwnFolder() throws Exception {
        Path tools = temp.resolve("tools");
        Path admin = temp.resolve("admin");
        KilnTestServer.Builder builder = KilnTestServer.builder(temp).option("script-alias", "/tools/=" + tools
                + Option.REPEATED_SEPARATOR + "/ops/admin=" + admin);
        KilnTestServer.writeScript(builder.scripts(), "env.sh", ENV);
        Path only = KilnTestServer.writeScript(builder.scripts(), "only.sh",
                "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nCGI-BIN-ONLY\\n'\n");
        KilnTestServer.writeScript(tools, "env.sh", ENV);
        KilnTestServer.writeScript(tools, "sub/env.sh", ENV);
        KilnTestServer.writeScript(admin, "env.sh", ENV);
        KilnTestServer.writeScript(tools, "hello.py", "print('Content-Type: text/plain')\nprint()\nprint('py')\n");
        KilnTestServer.writeScript(tools, "lib/__init__.py", "");
        KilnTestServer.writeScript(tools, "lib/util.py", "print('Content-Type: text/plain')\nprint()\n");
        Path writable = KilnTestServer.writeScript(tools, "open.sh", ENV);
        Files.setPosixFilePermissions(writable, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.createSymbolicLink(tools.resolve("into-cgi-bin.sh"), only);
        try (KilnTestServer kiln = builder.start()) {

            assertThat(env(kiln, "/tools/env.sh/a/b?x=1")).containsEntry("SCRIPT_NAME", "/tools/env.sh")
                    .containsEntry("PATH_INFO", "/a/b");
            assertThat(env(kiln, "/tools/sub/env.sh")).containsEntry("SCRIPT_NAME", "/tools/sub/env.sh")
                    .containsEntry("PATH_INFO", "");
            assertThat(env(kiln, "/ops/admin/env.sh/x")).containsEntry("SCRIPT_NAME", "/ops/admin/env.sh")
                    .containsEntry("PATH_INFO", "/x");
            assertThat(env(kiln, "/cgi-bin/env.sh/c")).containsEntry("SCRIPT_NAME", "/cgi-bin/env.sh")
                    .containsEntry("PATH_INFO", "/c");
            assertThat(kiln.get("/tools/only.sh").statusCode()).as("not in this folder").isEqualTo(404);
            // dot segments are removed from the URL first (RFC 3986 5.2.4): this one names /cgi-bin/'s script
            assertThat(RawHttp.get(kiln.port(), "/tools/../cgi-bin/env.sh").body()).contains("SCRIPT_NAME=/cgi-bin/");
            for (String hostile : List.of("/tools/%2e%2e/cgi-bin/only.sh",
                    "/tools/..%2fcgi-bin%2fonly.sh", "/tools/sub/%2e%2e/%2e%2e/cgi-bin/only.sh",
                    "/tools/into-cgi-bin.sh", "/tools/%2fcgi-bin/only.sh")) {
                RawHttp.Reply r = RawHttp.get(kiln.port(), hostile);
                assertThat(r.status()).as(hostile).isIn(400, 403, 404);
                assertThat(r.body()).as(hostile).doesNotContain("CGI-BIN-ONLY");
            }
            assertThat(kiln.get("/tools/lib/util.py").statusCode()).as("a library module").isEqualTo(403);
            assertThat(kiln.get("/tools/open.sh").statusCode()).as("writable by others").isEqualTo(403);
            assertThat(kiln.get("/tools/hello.py").body()).isEqualTo("py\n");
            assertThat(Bytecode.pycs(kiln.kiln().cache().root())).as("the cache holds the alias folder's bytecode")
                    .anySatisfy(p -> assertThat(p.toString()).contains("/tools/hello."));

            String index = kiln.get("/").body();
            assertThat(index).contains("href=\"/cgi-bin/env.sh\"", "href=\"/tools/env.sh\"",
                    "href=\"/tools/sub/env.sh\"", "href=\"/ops/admin/env.sh\"").doesNotContain("lib/util.py");
        }
    }

    @Test
    void foldersAndPrefixesMayNotOverlap() throws Exception {
        Files.createDirectories(temp.resolve("cgi-bin/inner"));
        Files.createDirectories(temp.resolve("a/b"));
        for (String aliases : List.of("/x/=" + temp.resolve("cgi-bin/inner"), "/x/=" + temp,
                "/x/=" + temp.resolve("a") + Option.REPEATED_SEPARATOR + "/y/=" + temp.resolve("a/b"))) {
            assertThatThrownBy(() -> KilnTestServer.builder(temp).option("script-alias", aliases).start())
                    .as(aliases).isInstanceOf(ConfigException.class).hasMessageContaining("overlaps the folder of");
        }
        for (String aliases : List.of("/cgi-bin/more=" + temp.resolve("a"), "/kiln=" + temp.resolve("a"),
                "/x=" + temp.resolve("a") + Option.REPEATED_SEPARATOR + "/x/y=" + temp.resolve("a/b"))) {
            assertThatThrownBy(() -> KilnTestServer.builder(temp).option("script-alias", aliases).start())
                    .as(aliases).isInstanceOf(ConfigException.class).hasMessageContaining("overlap");
        }
        assertThatThrownBy(() -> KilnTestServer.builder(temp).option("script-alias", "/x/=" + temp.resolve("a"))
                .option("static", "/x/y/=" + temp.resolve("a/b")).start()).isInstanceOf(ConfigException.class)
                .hasMessageContaining("URL prefixes overlap");
    }

    private static Map<String, String> env(KilnTestServer kiln, String path) throws Exception {
        var r = kiln.get(path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : r.body().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return out;
    }
}
