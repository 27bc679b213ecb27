package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.config.Option;
import dev.kiln.testing.Bytecode;
import dev.kiln.testing.EachRunMode;
import dev.kiln.testing.Json;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.RawHttp;

/** RFC 3875 over real HTTP: routing, the environment, the response, redirects, what runs and what not. */
@EachRunMode
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one Kiln per run mode for all the tests
class CgiProtocolTest {
    @Parameter
    String runMode;
    Path temp;
    KilnTestServer kiln;

    static final String ENV_DUMP = "#!/usr/bin/python3\n"
            + "import json, os, sys\n"
            + "body = sys.stdin.buffer.read(int(os.environ.get('CONTENT_LENGTH') or 0))\n"
            + "env = dict(os.environ)\n"
            + "env['_BODY'] = body.decode('latin-1')\n"
            + "env['_ARGV'] = ' '.join(sys.argv[1:])\n"
            + "env['_CWD'] = os.getcwd()\n"
            + "sys.stdout.write('Content-Type: application/json\\n\\n' + json.dumps(env))\n";

    @BeforeParameterizedClassInvocation(injectArguments = false)
    void start(@TempDir Path dir) throws Exception {
        temp = dir;
        Files.writeString(temp.resolve("outside.txt"), "TOP-SECRET-OUTSIDE");
        kiln = KilnTestServer.builder(temp).runMode(runMode)
                .hostEnv("PYTHONDONTWRITEBYTECODE", "1")
                .hostEnv("LANG", "C.UTF-8")
                .hostEnv("SECRET_TOKEN", "do-not-leak")
                .option("env", "KILN_TEST_EXTRA=yes,LC_ALL=C.UTF-8")
                .start();
        kiln.script("env.py", ENV_DUMP);
        kiln.script("sub/dir/env.py", ENV_DUMP);
        kiln.script("noshebang.py", ENV_DUMP.substring(ENV_DUMP.indexOf('\n') + 1));
        kiln.script("viaenv.py", ENV_DUMP.replace("#!/usr/bin/python3", "#!/usr/bin/env python3"));
        kiln.script("shebang-args.sh", "#!/bin/sh -e -u\necho 'Content-Type: text/plain'\necho\necho \"args=$-\"\n");
        kiln.script("data.txt", "TOP-SECRET-DATA\n");
        kiln.script(".hidden.py", ENV_DUMP);
        kiln.script("status.sh", "#!/bin/sh\nprintf 'Status: 418 I am a teapot\\nContent-Type: text/plain\\n"
                + "Set-Cookie: a=1\\nSet-Cookie: b=2\\nX-Custom: yes\\n\\nteapot'\n");
        kiln.script("redirect-local.sh", "#!/bin/sh\nprintf 'Location: /cgi-bin/env.py?from=redirect\\n\\n'\n");
        kiln.script("redirect-loop.sh", "#!/bin/sh\nprintf 'Location: /cgi-bin/redirect-loop.sh\\n\\n'\n");
        kiln.script("redirect-client.sh", "#!/bin/sh\nprintf 'Location: https://example.org/x\\n\\n'\n");
        kiln.script("redirect-301.sh", "#!/bin/sh\nprintf 'Status: 301 Moved\\nLocation: https://example.org/y\\n"
                + "Content-Type: text/plain\\n\\nmoved'\n");
        Files.createSymbolicLink(kiln.scripts().resolve("leak.sh"), temp.resolve("outside.txt"));
    }

    @AfterParameterizedClassInvocation
    void stop() throws Exception {
        kiln.close();
    }

    Map<String, String> env(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.strings(r.body());
    }

    @Test
    void everyRfc3875MetaVariableAndTheApacheExtras() throws Exception {
        HttpResponse<String> r = kiln.send(HttpRequest.newBuilder(kiln.uri("/cgi-bin/sub/dir/env.py/extra/p%20q?a=1&b=%20"))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("hello body")).build());
        Map<String, String> e = env(r);
        Path root = kiln.scripts().toRealPath();
        assertThat(e).containsEntry("GATEWAY_INTERFACE", "CGI/1.1")
                .containsEntry("REQUEST_METHOD", "POST")
                .containsEntry("SCRIPT_NAME", "/cgi-bin/sub/dir/env.py")
                .containsEntry("PATH_INFO", "/extra/p q")
                .containsEntry("PATH_TRANSLATED", root + "/extra/p q")
                .containsEntry("QUERY_STRING", "a=1&b=%20")
                .containsEntry("CONTENT_TYPE", "text/plain")
                .containsEntry("CONTENT_LENGTH", "10")
                .containsEntry("_BODY", "hello body")
                .containsEntry("SERVER_NAME", "127.0.0.1")
                .containsEntry("SERVER_PORT", Integer.toString(kiln.port()))
                .containsEntry("SERVER_PROTOCOL", "HTTP/1.1")
                .containsEntry("REMOTE_ADDR", "127.0.0.1")
                .containsEntry("REQUEST_URI", "/cgi-bin/sub/dir/env.py/extra/p%20q?a=1&b=%20")
                .containsEntry("SCRIPT_FILENAME", root.resolve("sub/dir/env.py").toString())
                .containsEntry("DOCUMENT_ROOT", root.toString())
                .containsEntry("SERVER_ADDR", "127.0.0.1")
                .containsEntry("REQUEST_SCHEME", "http")
                .containsEntry("_CWD", root.resolve("sub/dir").toString());
        assertThat(e.get("SERVER_SOFTWARE")).startsWith("Kiln/");
        assertThat(e).containsKeys("REMOTE_HOST", "REMOTE_PORT");
        assertThat(Integer.parseInt(e.get("REMOTE_PORT"))).isPositive();
        assertThat(e).doesNotContainKeys("HTTPS", "AUTH_TYPE", "REMOTE_USER");
    }

    @Test
    void environmentIsBuiltFromScratch() throws Exception {
        Map<String, String> e = env(kiln.get("/cgi-bin/env.py"));
        assertThat(e).containsEntry("PATH", "/usr/local/bin:/usr/bin:/bin")
                .containsEntry("LANG", "C.UTF-8")
                .containsEntry("LC_ALL", "C.UTF-8")
                .containsEntry("KILN_TEST_EXTRA", "yes")
                .doesNotContainKeys("SECRET_TOKEN", "HOME", "PYTHONDONTWRITEBYTECODE", "PATH_TRANSLATED");
        assertThat(e).containsEntry("PATH_INFO", "").containsEntry("QUERY_STRING", "");
    }

    @Test
    void documentRootAndEnvValuesWithAnyCharacterReachScripts() throws Exception {
        Path docs = Files.createDirectories(temp.resolve("htdocs"));
        try (KilnTestServer other = KilnTestServer.builder(temp.resolve("docroot")).runMode(runMode)
                .option("document-root", docs.toString())
                .option("env", "APP_DB=postgres://h/db?opts=a,b" + Option.REPEATED_SEPARATOR + "NOTE=x, y").start()) {
            other.script("env.py", ENV_DUMP);
            Map<String, String> e = env(other.get("/cgi-bin/env.py/p%20q"));
            assertThat(e).containsEntry("DOCUMENT_ROOT", docs.toString())
                    .containsEntry("PATH_TRANSLATED", docs + "/p q")
                    .containsEntry("APP_DB", "postgres://h/db?opts=a,b")
                    .containsEntry("NOTE", "x, y");
        }
    }

    @Test
    void noBodyMeansNoContentLength() throws Exception {
        String response = RawHttp.get(kiln.port(), "/cgi-bin/env.py").text();
        assertThat(response).startsWith("HTTP/1.1 200").contains("\"REQUEST_METHOD\": \"GET\"")
                .doesNotContain("CONTENT_LENGTH").doesNotContain("CONTENT_TYPE");
    }

    @Test
    void headersBecomeHttpVariablesExceptTheDangerousOnes() throws Exception {
        // java.net.http refuses some restricted headers; a raw socket sends exactly what a client could.
        String raw = "GET /cgi-bin/env.py HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "X-Multi: one\r\nX-Multi: two\r\n"
                + "Cookie: a=1\r\nCookie: b=2\r\n"
                + "Proxy: http://evil.example:8080\r\n"
                + "X_Underscore: collide\r\nX-Underscore: kept\r\n"
                + "Authorization: Basic dXNlcjpwYXNz\r\n"
                + "User-Agent: kiln-test\r\n"
                + "Connection: close\r\n\r\n";
        Map<String, String> e = Json.strings(RawHttp.exchange(kiln.port(), raw).body());
        assertThat(e).containsEntry("HTTP_X_MULTI", "one, two")
                .containsEntry("HTTP_COOKIE", "a=1; b=2")
                .containsEntry("HTTP_X_UNDERSCORE", "kept")
                .containsEntry("HTTP_USER_AGENT", "kiln-test")
                .containsEntry("HTTP_HOST", "127.0.0.1")
                .doesNotContainKeys("HTTP_PROXY", "HTTP_AUTHORIZATION");
    }

    /** Header values reach the script as the bytes sent, UTF-8 or not; only names of [A-Za-z0-9-] pass. */
    @Test
    void headerBytesArriveExactlyAndOnlyShellSafeNamesPass() throws Exception {
        kiln.script("hdrbytes.py", "#!/usr/bin/python3\n"
                + "import os, sys\n"
                + "sys.stdout.write('Content-Type: text/plain\\n\\n')\n"
                + "for k in sorted(os.environb):\n"
                + "    if k.startswith(b'HTTP_X'):\n"
                + "        sys.stdout.write(k.decode() + '=' + os.environb[k].hex() + '\\n')\n");
        String raw = "GET /cgi-bin/hdrbytes.py HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "X-Utf8: caf\u00c3\u00a9\r\n"
                + "X-Latin1: caf\u00e9\r\n"
                + "X.Dot: dotted\r\nX~Tilde: tilde\r\nX!Bang: bang\r\n"
                + "Connection: close\r\n\r\n";
        RawHttp.Reply r = RawHttp.exchange(kiln.port(), raw);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.body().lines().toList()).containsExactly(
                "HTTP_X_LATIN1=" + HexFormat.of().formatHex("caf\u00e9".getBytes(StandardCharsets.ISO_8859_1)),
                "HTTP_X_UTF8=" + HexFormat.of().formatHex("caf\u00e9".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void queryWithoutEqualsIsNotCommandLineByDefault() throws Exception {
        assertThat(env(kiln.get("/cgi-bin/env.py?-c+import+os")).get("_ARGV")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"noshebang.py", "viaenv.py"})
    void pythonWithoutShebangAndViaEnvRunAsPython(String script) throws Exception {
        assertThat(env(kiln.get("/cgi-bin/" + script))).containsEntry("SCRIPT_NAME", "/cgi-bin/" + script);
    }

    @Test
    void shebangArgumentsAreHonoured() throws Exception {
        HttpResponse<String> r = kiln.get("/cgi-bin/shebang-args.sh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).startsWith("args=");
        assertThat(r.body().strip().substring("args=".length())).as("the shell's flags").contains("e").contains("u");
    }

    @Test
    void nonScriptsAreRefusedWithoutShowingTheirContent() throws Exception {
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = kiln.get("/cgi-bin/data.txt");
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.body()).doesNotContain("TOP-SECRET").contains("/cgi-bin/data.txt")
                    .doesNotContain(kiln.scripts().toString());
            assertThat(logs.matching("WARN", "data.txt", "no #! line", "fix:")).hasSize(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/cgi-bin/../outside.txt", "/cgi-bin/%2e%2e/outside.txt", "/cgi-bin/%2E%2E/outside.txt",
            "/cgi-bin/sub%2f..%2f..%2foutside.txt", "/cgi-bin/env.py%00.txt", "/cgi-bin/.hidden.py",
            "/cgi-bin/leak.sh", "/cgi-bin/sub/%2e%2e/%2e%2e/outside.txt", "/cgi-bin/sub\\..\\env.py",
            "/cgi-bin//etc/passwd", "/cgi-bin/%2fetc%2fpasswd"})
    void hostileUrlsNeverReachOutside(String path) throws Exception {
        RawHttp.Reply r = RawHttp.get(kiln.port(), path);
        assertThat(r.status()).as(r.head()).isIn(400, 403, 404);
        assertThat(r.text()).doesNotContain("TOP-SECRET").doesNotContain("root:x:0");
    }

    @Test
    void statusHeadersAndRepeatedCookiesPassThrough() throws Exception {
        HttpResponse<String> r = kiln.get("/cgi-bin/status.sh");
        assertThat(r.statusCode()).isEqualTo(418);
        assertThat(r.headers().allValues("Set-Cookie")).containsExactly("a=1", "b=2");
        assertThat(r.headers().firstValue("X-Custom")).hasValue("yes");
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain");
        assertThat(r.body()).isEqualTo("teapot");
    }

    @Test
    void localRedirectIsServedInsideAsGet() throws Exception {
        HttpResponse<String> r = kiln.post("/cgi-bin/redirect-local.sh", "text/plain", "original body");
        Map<String, String> e = env(r);
        assertThat(e).containsEntry("REQUEST_METHOD", "GET")
                .containsEntry("QUERY_STRING", "from=redirect")
                .containsEntry("SCRIPT_NAME", "/cgi-bin/env.py")
                .containsEntry("_BODY", "")
                .doesNotContainKey("CONTENT_LENGTH");
    }

    @Test
    void eachRequestIsOneAccessLogLine() throws Exception {
        try (LogCapture logs = LogCapture.capture("kiln.access")) {
            kiln.get("/cgi-bin/status.sh?x=1");
            List<String> lines = logs.await(3000, "\"GET /cgi-bin/status.sh?x=1 HTTP/1.1\" 418");
            assertThat(lines).hasSize(1);
            assertThat(lines.get(0)).startsWith("INFO [kiln.access] 127.0.0.1 ");
        }
    }

    @Test
    void localRedirectLoopsEnd() throws Exception {
        assertThat(kiln.get("/cgi-bin/redirect-loop.sh").statusCode()).isEqualTo(500);
    }

    @Test
    void absoluteLocationIsAClientRedirect() throws Exception {
        HttpResponse<String> r = kiln.get("/cgi-bin/redirect-client.sh");
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(r.headers().firstValue("Location")).hasValue("https://example.org/x");
    }

    @Test
    void aRedirectWithItsOwnStatusKeepsItAndItsBody() throws Exception {
        HttpResponse<String> moved = kiln.get("/cgi-bin/redirect-301.sh");
        assertThat(moved.statusCode()).isEqualTo(301);
        assertThat(moved.headers().firstValue("Location")).hasValue("https://example.org/y");
        assertThat(moved.body()).isEqualTo("moved");
    }

    @Test
    void scriptsFolderGetsNoBytecode() throws Exception {
        // plain Python writes no pyc for the script it runs, only for what that imports
        kiln.script("sibling_mod.py", "VALUE = 'imported'\n");
        kiln.script("imports.py", "#!/usr/bin/python3\nimport sibling_mod\n"
                + "print('Content-Type: text/plain\\n')\nprint(sibling_mod.VALUE)\n");
        assertThat(kiln.get("/cgi-bin/imports.py").body().strip()).isEqualTo("imported");
        kiln.get("/cgi-bin/env.py");
        kiln.get("/cgi-bin/noshebang.py");
        Bytecode.assertNoneUnder(kiln.scripts());
    }
}
