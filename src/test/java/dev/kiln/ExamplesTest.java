package dev.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.testing.Bytecode;
import dev.kiln.testing.Json;
import dev.kiln.testing.KilnTestServer;

/**
 * The bundled examples in {@code webapp/WEB-INF/cgi-bin}, served as they ship (the repository's folder itself,
 * cache in a temporary folder), through real HTTP. The folder must be left exactly as it was: no bytecode.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExamplesTest {
    static final Path EXAMPLES = Path.of("webapp/WEB-INF/cgi-bin").toAbsolutePath();
    static final List<String> SCRIPTS = List.of("Api.java", "env.py", "form.py", "hello.pl", "hello.py", "hello.sh",
            "imports.py", "stream.sh");
    static final String USER_AGENT = "KilnExamplesTest/1.0 (+junit)";

    @TempDir
    static Path temp;

    static Path examples;
    static Path cache;
    static List<Path> bytecodeBefore;
    static KilnTestServer kiln;

    @BeforeAll
    static void start() throws Exception {
        assertThat(EXAMPLES.resolve("hello.py")).as("run from the repository root").isRegularFile();
        examples = EXAMPLES.toRealPath();
        bytecodeBefore = Bytecode.under(EXAMPLES);
        cache = temp.resolve("cache");
        kiln = KilnTestServer.builder(temp)
                .option("scripts", examples.toString())
                .option("cache", cache.toString())
                .option("python", KilnTestServer.DEBIAN_PYTHON)
                // Kiln is given PYTHONDONTWRITEBYTECODE (as this machine's environment has it) and told to pass
                // it: scripts must still never see it, Kiln decides about bytecode itself
                .option("pass-env", "PATH,LANG,PYTHONDONTWRITEBYTECODE")
                .hostEnv("PYTHONDONTWRITEBYTECODE", "1")
                .hostEnv("LANG", "C.UTF-8")
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (kiln != null) {
            kiln.close();
        }
        // never leave bytecode in the repository, even when the check below failed
        for (Path dir : Bytecode.under(EXAMPLES)) {
            if (!bytecodeBefore.contains(dir) && Files.exists(dir)) {
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    /** require-exec is on by default, as in Apache: the examples ship with their execute bits (git keeps them). */
    @Test
    void everyExampleIsExecutableByAnyone() throws Exception {
        for (String script : SCRIPTS) {
            assertThat(Files.getPosixFilePermissions(EXAMPLES.resolve(script))).as(script).contains(
                    PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE,
                    PosixFilePermission.OTHERS_EXECUTE);
        }
    }

    @Test
    @Order(1)
    void indexLinksEveryExample() throws Exception {
        HttpResponse<String> r = kiln.get("/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("text/html"));
        for (String s : SCRIPTS) {
            assertThat(r.body()).contains("<a href=\"/cgi-bin/" + s + "\">" + s + "</a>");
        }
        // library modules and the README are not pages
        assertThat(r.body()).doesNotContain("README.txt").doesNotContain("kiln_demo/");
    }

    @Test
    @Order(2)
    void helloPy() throws Exception {
        HttpResponse<String> r = kiln.get("/cgi-bin/hello.py");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(ExamplesTest::isUtf8Html);
        assertThat(r.body()).contains("<title>Hello from Kiln</title>").contains("<h1>Hello, world!</h1>")
                .contains("run by Kiln/");
        assertThat(r.headers().firstValueAsLong("Content-Length"))
                .hasValue(r.body().getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    @Order(3)
    void envPyShowsTheCgiMetaVariables() throws Exception {
        HttpResponse<String> r = kiln.send(HttpRequest.newBuilder(kiln.uri("/cgi-bin/env.py?format=json"))
                .timeout(Duration.ofSeconds(30))
                .header("User-Agent", USER_AGENT)
                .header("X-Kiln-Probe", "probe value")
                .header("Proxy", "http://attacker.invalid:3128") // httpoxy: must never become HTTP_PROXY
                .GET().build());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        Map<String, String> env = Json.strings(r.body());

        assertThat(env)
                .containsEntry("GATEWAY_INTERFACE", "CGI/1.1")
                .containsEntry("REQUEST_METHOD", "GET")
                .containsEntry("SCRIPT_NAME", "/cgi-bin/env.py")
                .containsEntry("PATH_INFO", "")
                .containsEntry("QUERY_STRING", "format=json")
                .containsEntry("SERVER_NAME", "127.0.0.1")
                .containsEntry("SERVER_PORT", Integer.toString(kiln.port()))
                .containsEntry("SERVER_PROTOCOL", "HTTP/1.1")
                .containsEntry("REQUEST_SCHEME", "http")
                .containsEntry("REMOTE_ADDR", "127.0.0.1")
                .containsEntry("REQUEST_URI", "/cgi-bin/env.py?format=json")
                .containsEntry("SCRIPT_FILENAME", examples.resolve("env.py").toString())
                .containsEntry("DOCUMENT_ROOT", examples.toString())
                .containsEntry("HTTP_USER_AGENT", USER_AGENT)
                .containsEntry("HTTP_X_KILN_PROBE", "probe value")
                .containsEntry("LANG", "C.UTF-8")
                .containsKeys("REMOTE_PORT", "HTTP_HOST", "PATH")
                .doesNotContainKeys("PYTHONDONTWRITEBYTECODE", "HTTP_PROXY", "CONTENT_TYPE",
                        "PATH_TRANSLATED", "HOME");
        assertThat(env.get("SERVER_SOFTWARE")).startsWith("Kiln/");
        assertThat(env.get("HTTP_HOST")).isEqualTo("127.0.0.1:" + kiln.port());
        // Python scripts get Kiln's cache (in the temporary folder) as their bytecode location
        assertThat(env).containsKey("PYTHONPYCACHEPREFIX");
        assertThat(Path.of(env.get("PYTHONPYCACHEPREFIX"))).startsWith(cache);
    }

    @Test
    @Order(4)
    void envPySeesPathInfoAndItsBody() throws Exception {
        HttpResponse<String> r = kiln.post("/cgi-bin/env.py/extra/a%20b?format=json&x=1",
                "application/octet-stream", "twelve bytes");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        Map<String, String> env = Json.strings(r.body());
        assertThat(env)
                .containsEntry("REQUEST_METHOD", "POST")
                .containsEntry("SCRIPT_NAME", "/cgi-bin/env.py")
                .containsEntry("PATH_INFO", "/extra/a b")
                .containsEntry("PATH_TRANSLATED", examples + "/extra/a b")
                .containsEntry("QUERY_STRING", "format=json&x=1")
                .containsEntry("REQUEST_URI", "/cgi-bin/env.py/extra/a%20b?format=json&x=1")
                .containsEntry("CONTENT_LENGTH", "12")
                .containsEntry("CONTENT_TYPE", "application/octet-stream")
                .containsEntry("SCRIPT_FILENAME", examples.resolve("env.py").toString());

        HttpResponse<String> page = kiln.post("/cgi-bin/env.py", "text/plain", "twelve bytes");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("request body: 12 bytes")
                .contains("<tr><th>SCRIPT_NAME</th><td>/cgi-bin/env.py</td></tr>");
    }

    @Test
    @Order(5)
    void formPyPostsToItselfAndEscapesWhatItEchoes() throws Exception {
        HttpResponse<String> form = kiln.get("/cgi-bin/form.py");
        assertThat(form.statusCode()).as(form.body()).isEqualTo(200);
        assertThat(form.headers().firstValue("Content-Type")).hasValueSatisfying(ExamplesTest::isUtf8Html);
        assertThat(form.body()).contains("<form method=\"post\" action=\"/cgi-bin/form.py\"")
                .contains("name=\"name\"").contains("<textarea name=\"msg\"");

        String body = "name=" + enc("<script>alert('kiln')</script>")
                + "&msg=" + enc("first line\nTom & Jerry \"quoted\"")
                + "&colour=" + enc("kiln orange");
        HttpResponse<String> r = kiln.post("/cgi-bin/form.py", "application/x-www-form-urlencoded", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body())
                .contains("<title>Thank you</title>")
                .contains("<dd>&lt;script&gt;alert(&#x27;kiln&#x27;)&lt;/script&gt;</dd>")
                .contains("Tom &amp; Jerry &quot;quoted&quot;")
                .contains("<dd>kiln orange</dd>")
                .doesNotContain("<script>");

        HttpResponse<String> wrongType = kiln.post("/cgi-bin/form.py", "text/plain", "name=x");
        assertThat(wrongType.statusCode()).isEqualTo(415);
    }

    @Test
    @Order(6)
    void importsPyImportsItsLocalPackage() throws Exception {
        for (int round = 0; round < 2; round++) {
            HttpResponse<String> r = kiln.get("/cgi-bin/imports.py");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body())
                    .contains("imported <code>kiln_demo</code> 1.0")
                    .contains("<code>__main__</code>")
                    .contains("<code>" + examples.resolve("kiln_demo/__init__.py") + "</code>")
                    .contains("<code>" + examples.resolve("kiln_demo/text.py") + "</code>")
                    .contains("kiln-hosts-cgi-scripts-from-a-cgi-bin-folder")
                    .contains("<td>The Art of the CGI Script</td>");
            // the package's bytecode lives in Kiln's cache, not next to the sources
            assertThat(r.body()).contains("<code>" + cache);
            assertThat(r.body()).doesNotContain(examples + "/kiln_demo/__pycache__");
        }
    }

    @Test
    @Order(7)
    void shellAndPerlExamples() throws Exception {
        HttpResponse<String> sh = kiln.get("/cgi-bin/hello.sh?who=kiln");
        assertThat(sh.statusCode()).as(sh.body()).isEqualTo(200);
        assertThat(sh.headers().firstValue("Content-Type")).hasValueSatisfying(ExamplesTest::isUtf8Text);
        assertThat(sh.body()).startsWith("Hello from /bin/sh!\n")
                .contains("Server software: Kiln/")
                .contains("Query string:    who=kiln");

        HttpResponse<String> pl = kiln.get("/cgi-bin/hello.pl");
        assertThat(pl.statusCode()).as(pl.body()).isEqualTo(200);
        assertThat(pl.headers().firstValue("Content-Type")).hasValueSatisfying(ExamplesTest::isUtf8Html);
        assertThat(pl.body()).contains("<title>Hello from Perl</title>").contains("<h1>Hello, world!</h1>")
                .containsPattern("made by Perl 5\\.\\d+\\.\\d+, run by Kiln/");
    }

    @Test
    @Order(8)
    void streamShDeliversItsLinesAsTheyAreWritten() throws Exception {
        long start = System.nanoTime();
        HttpResponse<InputStream> r = kiln.client().send(HttpRequest.newBuilder(kiln.uri("/cgi-bin/stream.sh"))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(ExamplesTest::isUtf8Text);
        assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
        List<String> lines = new ArrayList<>();
        List<Long> arrived = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                arrived.add((System.nanoTime() - start) / 1_000_000);
                lines.add(line);
            }
        }
        assertThat(lines).hasSize(5);
        for (int i = 0; i < 5; i++) {
            assertThat(lines.get(i)).startsWith("line " + (i + 1) + " of 5 at ");
        }
        // the script sleeps 0.3 s between lines: buffered to the end, all five would arrive together
        assertThat(arrived.get(4) - arrived.get(0)).as("ms between first and last line, arrivals %s", arrived)
                .isGreaterThan(500);
    }

    @Test
    @Order(9)
    void apiJavaAnswersJsonAndEchoesAPostedForm() throws Exception {
        HttpResponse<String> r = kiln.get("/cgi-bin/Api.java?name=" + enc("Ada \"L\""));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        var json = Json.tree(r.body());
        assertThat(json.path("greeting").asText()).isEqualTo("Hello, Ada \"L\"!");
        assertThat(json.path("method").asText()).isEqualTo("GET");
        assertThat(json.path("server").asText()).startsWith("Kiln/");
        assertThat(json.path("java").asText()).isNotEmpty();

        HttpResponse<String> post = kiln.post("/cgi-bin/Api.java", "application/x-www-form-urlencoded",
                "name=Grace&msg=" + enc("line 1\nTom & Jerry"));
        assertThat(post.statusCode()).as(post.body()).isEqualTo(200);
        var echoed = Json.tree(post.body());
        assertThat(echoed.path("greeting").asText()).isEqualTo("Hello, Grace!");
        assertThat(echoed.path("fields").path("msg").asText()).isEqualTo("line 1\nTom & Jerry");
        assertThat(kiln.post("/cgi-bin/Api.java", "text/plain", "x").statusCode()).isEqualTo(415);
        // compiled once, into the cache: nothing next to the source
        assertThat(kiln.status().path("javaScripts").path("Api.java").path("compiles").asInt()).isEqualTo(1);
        try (Stream<Path> files = Files.walk(examples)) {
            assertThat(files.filter(p -> p.toString().endsWith(".class"))).isEmpty();
        }
    }

    @ParameterizedTest
    @Order(10)
    @ValueSource(strings = {"/cgi-bin/README.txt", "/cgi-bin/README.txt/extra", "/cgi-bin/README.txt?x"})
    void readmeIsRefusedAndNeverShown(String path) throws Exception {
        String readme = Files.readString(examples.resolve("README.txt"));
        HttpResponse<String> r = kiln.get(path);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).doesNotContain("Kiln example CGI scripts")
                .doesNotContain(readme.lines().skip(3).findFirst().orElseThrow());
    }

    @Test
    @Order(99)
    void noBytecodeWasWrittenIntoTheExamplesFolder() throws Exception {
        for (String script : List.of("hello.py", "env.py", "form.py", "imports.py")) {
            assertThat(kiln.get("/cgi-bin/" + script).statusCode()).as(script).isEqualTo(200);
        }
        assertThat(Bytecode.under(examples)).as("bytecode under %s (there before the test: %s)", examples,
                bytecodeBefore).isEmpty();
    }

    /** The script's Content-Type (Jetty writes {@code type; charset=x} as {@code type;charset=x}). */
    static void isUtf8Html(String contentType) {
        assertThat(contentType.replace(" ", "")).isEqualToIgnoringCase("text/html;charset=utf-8");
    }

    static void isUtf8Text(String contentType) {
        assertThat(contentType.replace(" ", "")).isEqualToIgnoringCase("text/plain;charset=utf-8");
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
