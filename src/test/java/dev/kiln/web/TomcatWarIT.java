package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * The built {@code target/kiln.war} in a real Tomcat 11 ({@code catalina.sh run} as a child process, its own
 * CATALINA_BASE, an HTTP connector on a free port of 127.0.0.1), exercised with real HTTP and real python3.
 *
 * <p>One Tomcat serves three contexts:
 * <ul>
 * <li>{@code /kiln}: kiln.war dropped into webapps/ as it is; Tomcat unpacks it.</li>
 * <li>{@code /tomcatnames}: the same war, unpacked by the test, whose web.xml gives the CGI servlet Tomcat
 * CGIServlet init-params ({@code cgiPathPrefix}, {@code passShellEnvironment=false}, {@code envHttpHeaders},
 * {@code cgiMethods}, {@code stderrTimeout}).</li>
 * <li>{@code /tomcatshell}: the same again with only {@code passShellEnvironment=true}, the control that shows
 * the names are read (a variable of Tomcat's environment reaches scripts here and only here).</li>
 * </ul>
 *
 * <p>Runs under maven-failsafe with the system properties {@code kiln.war} and {@code tomcat.home}.
 */
class TomcatWarIT {
    private static final String PYTHON = "/usr/bin/python3";
    /** In Tomcat's environment; only passShellEnvironment=true lets scripts see it. */
    private static final String SHELL_MARKER = "TOMCAT_IT_SHELL_MARKER";
    private static final String SHELL_MARKER_VALUE = "from-tomcat-environment";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    /** Header filter for /tomcatnames: Tomcat's default list plus one test header. */
    private static final String HEADER_REGEX = "ACCEPT[-0-9A-Z]*|CACHE-CONTROL|COOKIE|HOST|IF-[-0-9A-Z]*|REFERER"
            + "|USER-AGENT|X-KILN-ALLOWED";
    /** A script that sends its response, closes stdout, and lingers with stderr open. */
    private static final String LINGER_SH = """
            #!/bin/sh
            printf 'Content-Type: text/plain\\n\\n'
            printf 'lingering\\n'
            exec 1>&-
            sleep 5
            echo 'late stderr line' >&2
            """;

    @TempDir
    static Path temp;

    private static Path home;
    private static Path base;
    private static int port;
    private static Process tomcat;
    private static Path console;
    private static Thread shutdownHook;
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    // ---------------------------------------------------------------------------------------------------------
    // Tomcat

    @BeforeAll
    static void startTomcat() throws Exception {
        Path war = Path.of(requiredProperty("kiln.war"));
        home = Path.of(requiredProperty("tomcat.home")).toAbsolutePath().normalize();
        assertThat(war).as("kiln.war (run after package)").isRegularFile();
        assertThat(home.resolve("bin/catalina.sh")).as("Tomcat unpacked by the pom").isRegularFile();
        assertThat(Path.of(PYTHON)).as("Debian's python3").isExecutable();

        base = temp.resolve("catalina-base");
        for (String dir : List.of("conf", "logs", "temp", "work", "webapps")) {
            Files.createDirectories(base.resolve(dir));
        }
        copyTree(home.resolve("conf"), base.resolve("conf"));
        port = freePort();
        rewriteServerXml(base.resolve("conf/server.xml"), port);

        Path webapps = base.resolve("webapps");
        Files.copy(war, webapps.resolve("kiln.war"));

        Path names = webapps.resolve("tomcatnames");
        unzip(war, names);
        Map<String, String> tomcatParams = new LinkedHashMap<>();
        tomcatParams.put("debug", "0"); // a Tomcat name Kiln ignores; must not stop the start
        tomcatParams.put("cgiPathPrefix", "WEB-INF/other-cgi");
        tomcatParams.put("passShellEnvironment", "false");
        tomcatParams.put("envHttpHeaders", HEADER_REGEX);
        tomcatParams.put("cgiMethods", "GET,POST");
        tomcatParams.put("stderrTimeout", "300");
        addCgiInitParams(names.resolve("WEB-INF/web.xml"), tomcatParams);
        Path other = Files.createDirectories(names.resolve("WEB-INF/other-cgi"));
        Files.copy(names.resolve("WEB-INF/cgi-bin/env.py"), other.resolve("env.py"));
        Files.writeString(other.resolve("linger.sh"), LINGER_SH);

        Path shell = webapps.resolve("tomcatshell");
        unzip(war, shell);
        addCgiInitParams(shell.resolve("WEB-INF/web.xml"), Map.of("passShellEnvironment", "true"));
        Files.writeString(shell.resolve("WEB-INF/cgi-bin/linger.sh"), LINGER_SH);

        console = base.resolve("logs/console.out");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/catalina.sh").toString(), "run")
                .directory(base.toFile())
                .redirectErrorStream(true)
                .redirectOutput(console.toFile());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/bin:/bin");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("CATALINA_HOME", home.toString());
        env.put("CATALINA_BASE", base.toString());
        env.put("CATALINA_OPTS", "-Xmx256m");
        env.put("KILN_PYTHON", PYTHON);
        env.put(SHELL_MARKER, SHELL_MARKER_VALUE);
        tomcat = pb.start();
        shutdownHook = new Thread(TomcatWarIT::stopQuietly, "stop-tomcat");
        Runtime.getRuntime().addShutdownHook(shutdownHook);

        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        for (String ready : List.of("/kiln/cgi-bin/hello.py", "/tomcatnames/cgi-bin/env.py",
                "/tomcatshell/cgi-bin/hello.py")) {
            awaitOk(ready, deadline);
        }
    }

    @AfterAll
    static void stopTomcat() throws Exception {
        if (tomcat == null) {
            return;
        }
        stopQuietly();
        keepConsoleLog();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook runs anyway
        }
        assertThat(tomcat.isAlive()).as("Tomcat still running after stop").isFalse();
    }

    /** Tomcat's console (its log and Kiln's) outlives the temporary folder as target/TomcatWarIT-console.log. */
    private static void keepConsoleLog() {
        try {
            if (console != null && Files.exists(console)) {
                Path target = Path.of(requiredProperty("kiln.war")).toAbsolutePath().getParent();
                Files.copy(console, target.resolve("TomcatWarIT-console.log"), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            // diagnostics only
        }
    }

    /** SIGTERM (Tomcat's orderly shutdown), SIGKILL if it lingers, then whatever it left behind. */
    private static synchronized void stopQuietly() {
        Process p = tomcat;
        if (p == null || !p.isAlive()) {
            return;
        }
        List<ProcessHandle> tree = p.descendants().toList();
        p.destroy();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle h : tree) {
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // /kiln: the war as it was built

    @Test
    void helloPy() throws Exception {
        HttpResponse<String> r = get("/kiln/cgi-bin/hello.py");
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/html"));
        assertThat(r.body()).contains("Hello, world!").contains("run by Kiln/");
    }

    @Test
    void envPyShowsTheCgiEnvironment() throws Exception {
        HttpResponse<String> r = get("/kiln/cgi-bin/env.py?format=json&x=1");
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        Map<String, Object> env = Json.object(r.body());
        assertThat(env).containsEntry("SCRIPT_NAME", "/kiln/cgi-bin/env.py")
                .containsEntry("QUERY_STRING", "format=json&x=1")
                .containsEntry("GATEWAY_INTERFACE", "CGI/1.1")
                .containsEntry("REQUEST_METHOD", "GET")
                .containsEntry("SERVER_PORT", Integer.toString(port))
                .containsEntry("PATH_INFO", "")
                .containsEntry("SCRIPT_FILENAME",
                        real(base.resolve("webapps/kiln/WEB-INF/cgi-bin/env.py")).toString())
                .doesNotContainKey("PYTHONDONTWRITEBYTECODE")
                .doesNotContainKey(SHELL_MARKER)      // default pass-env: PATH, LANG, LC_ALL, TZ only
                .doesNotContainKey("CATALINA_BASE")
                .doesNotContainKey("KILN_PYTHON");
        assertThat((String) env.get("SERVER_SOFTWARE")).startsWith("Kiln/");
        assertThat(env).containsEntry("PATH", "/usr/bin:/bin");
    }

    @Test
    void formPyEchoesAPostEscaped() throws Exception {
        String body = "name=" + enc("<b>Ann & Bob</b>") + "&msg=" + enc("1+2=3 \"quoted\"") + "&colour="
                + enc("kiln orange");
        HttpResponse<String> r = HTTP.send(request("/kiln/cgi-bin/form.py")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
        assertThat(r.body()).contains("Thank you")
                .contains("&lt;b&gt;Ann &amp; Bob&lt;/b&gt;")
                .contains("1+2=3 &quot;quoted&quot;")
                .contains("kiln orange")
                .doesNotContain("<b>Ann");
    }

    @Test
    void helloSh() throws Exception {
        HttpResponse<String> r = get("/kiln/cgi-bin/hello.sh?a=b");
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/plain"));
        assertThat(r.body()).contains("Hello from /bin/sh!")
                .containsPattern("Server software: Kiln/\\S+")
                .contains("Query string:    a=b");
    }

    @Test
    void indexLinksTheScripts() throws Exception {
        HttpResponse<String> r = get("/kiln/");
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/html"));
        for (String script : List.of("hello.py", "env.py", "form.py", "hello.sh", "imports.py")) {
            assertThat(r.body()).contains("href=\"/kiln/cgi-bin/" + script + "\"");
        }
        assertThat(r.body()).doesNotContain("README.txt").doesNotContain("kiln_demo/table.py")
                .contains("href=\"/kiln/kiln/status\"");
    }

    @Test
    void statusShowsTheCacheInTheContextsWorkDir() throws Exception {
        get("/kiln/cgi-bin/hello.py"); // at least one Python request has run
        Map<String, Object> status = status("/kiln");
        @SuppressWarnings("unchecked")
        Map<String, Object> cache = (Map<String, Object>) status.get("cache");
        Path workDir = real(base.resolve("work/Catalina/localhost/kiln"));
        Path folder = Path.of((String) cache.get("folder"));
        assertThat(folder).as("cache folder").startsWith(workDir).isDirectory();
        assertThat(real(folder)).startsWith(workDir);
        assertThat(cache).containsEntry("mode", "rw").containsEntry("writable", true)
                .containsEntry("healthy", true);
        assertThat(Path.of((String) status.get("scripts")))
                .isEqualTo(real(base.resolve("webapps/kiln/WEB-INF/cgi-bin")));
        assertThat(status.get("interpreters").toString()).contains(PYTHON);
    }

    @Test
    void aTextFileIsNotRun() throws Exception {
        HttpResponse<String> r = get("/kiln/cgi-bin/README.txt");
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(403);
        assertThat(r.body()).doesNotContain("Kiln example CGI scripts");
    }

    @Test
    void traversalDoesNotLeakWebXml() throws Exception {
        List<String> attempts = List.of(
                "/kiln/cgi-bin/../WEB-INF/web.xml",
                "/kiln/cgi-bin/%2e%2e/WEB-INF/web.xml",
                "/kiln/cgi-bin/%2E%2E/%2E%2E/kiln/WEB-INF/web.xml",
                "/kiln/cgi-bin/..%2fWEB-INF%2fweb.xml",
                "/kiln/cgi-bin/..%5cWEB-INF%5cweb.xml",
                "/kiln/cgi-bin/hello.py/../../WEB-INF/web.xml",
                "/kiln/cgi-bin/./../WEB-INF/web.xml",
                "/kiln/cgi-bin//../WEB-INF/web.xml",
                "/kiln/WEB-INF/web.xml",
                "/kiln/cgi-bin/../WEB-INF/cgi-bin/README.txt");
        for (String path : attempts) {
            RawResponse r = rawGet(path);
            assertThat(r.status()).as("%s answered %s", path, r.head()).isNotEqualTo(200).isBetween(400, 499);
            assertThat(r.body()).as(path)
                    .doesNotContain("dev.kiln.web.CgiServlet")
                    .doesNotContain("<servlet-mapping>")
                    .doesNotContain("Kiln example CGI scripts");
        }
    }

    @Test
    void noBytecodeLandsInTheScriptsFolder() throws Exception {
        for (String path : List.of("/kiln/cgi-bin/hello.py", "/kiln/cgi-bin/env.py", "/kiln/cgi-bin/form.py",
                "/kiln/cgi-bin/imports.py", "/kiln/cgi-bin/imports.py")) {
            HttpResponse<String> r = get(path);
            assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
        }
        Path scripts = base.resolve("webapps/kiln/WEB-INF/cgi-bin");
        try (Stream<Path> files = Files.walk(scripts)) {
            assertThat(files.map(p -> scripts.relativize(p).toString())
                    .filter(p -> p.contains("__pycache__") || p.endsWith(".pyc")).toList())
                    .as("bytecode under %s", scripts).isEmpty();
        }
        // ... because it went to Kiln's cache instead
        @SuppressWarnings("unchecked")
        Map<String, Object> cache = (Map<String, Object>) status("/kiln").get("cache");
        Path prefix = Path.of((String) cache.get("prefix"));
        try (Stream<Path> files = Files.walk(prefix)) {
            assertThat(files.map(Path::toString).filter(p -> p.endsWith(".pyc")).toList())
                    .as("bytecode in the cache %s", prefix)
                    .anySatisfy(p -> assertThat(p).contains("kiln_demo").contains("table."));
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // /tomcatnames and /tomcatshell: Tomcat CGIServlet init-param names

    @Test
    void cgiPathPrefixChoosesTheScriptsFolder() throws Exception {
        Path other = real(base.resolve("webapps/tomcatnames/WEB-INF/other-cgi"));
        assertThat(Path.of((String) status("/tomcatnames").get("scripts"))).isEqualTo(other);
        HttpResponse<String> env = get("/tomcatnames/cgi-bin/env.py?format=json");
        assertThat(env.statusCode()).as(describe(env)).isEqualTo(200);
        assertThat(Json.object(env.body()))
                .containsEntry("SCRIPT_FILENAME", other.resolve("env.py").toString())
                .containsEntry("SCRIPT_NAME", "/tomcatnames/cgi-bin/env.py");
        // hello.py is only in the default WEB-INF/cgi-bin, which this context no longer serves
        HttpResponse<String> hello = get("/tomcatnames/cgi-bin/hello.py");
        assertThat(hello.statusCode()).as(describe(hello)).isEqualTo(404);
        HttpResponse<String> index = get("/tomcatnames/");
        assertThat(index.body()).contains("href=\"/tomcatnames/cgi-bin/env.py\"").doesNotContain("hello.py");
    }

    @Test
    void passShellEnvironmentDecidesWhetherTomcatsEnvironmentReachesScripts() throws Exception {
        Map<String, Object> off = Json.object(get("/tomcatnames/cgi-bin/env.py?format=json").body());
        assertThat(off).doesNotContainKey(SHELL_MARKER).doesNotContainKey("CATALINA_BASE")
                .doesNotContainKey("JAVA_HOME");
        Map<String, Object> on = Json.object(get("/tomcatshell/cgi-bin/env.py?format=json").body());
        assertThat(on).containsEntry(SHELL_MARKER, SHELL_MARKER_VALUE)
                .containsEntry("CATALINA_BASE", base.toString())
                .doesNotContainKey("PYTHONDONTWRITEBYTECODE");
    }

    @Test
    void envHttpHeadersFiltersHttpVariables() throws Exception {
        HttpRequest.Builder b = request("/tomcatnames/cgi-bin/env.py?format=json")
                .header("X-Kiln-Allowed", "yes")
                .header("X-Kiln-Blocked", "no")
                .header("Accept-Language", "en")
                .GET();
        Map<String, Object> filtered = Json.object(HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(filtered).containsEntry("HTTP_X_KILN_ALLOWED", "yes")
                .containsEntry("HTTP_ACCEPT_LANGUAGE", "en")
                .containsKey("HTTP_HOST")
                .containsKey("HTTP_USER_AGENT")
                .doesNotContainKey("HTTP_X_KILN_BLOCKED");
        // control: without the init-param every header passes
        b = request("/kiln/cgi-bin/env.py?format=json").header("X-Kiln-Allowed", "yes")
                .header("X-Kiln-Blocked", "no").GET();
        Map<String, Object> all = Json.object(HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(all).containsEntry("HTTP_X_KILN_ALLOWED", "yes").containsEntry("HTTP_X_KILN_BLOCKED", "no");
    }

    @Test
    void cgiMethodsLimitsTheMethods() throws Exception {
        HttpResponse<String> put = HTTP.send(request("/tomcatnames/cgi-bin/env.py?format=json")
                .PUT(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(describe(put)).isEqualTo(405);
        assertThat(put.headers().firstValue("Allow")).hasValueSatisfying(
                v -> assertThat(v.split("\\s*,\\s*")).containsExactlyInAnyOrder("GET", "POST"));
        HttpResponse<String> delete = HTTP.send(request("/tomcatnames/cgi-bin/env.py").DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(delete.statusCode()).as(describe(delete)).isEqualTo(405);
        HttpResponse<String> post = HTTP.send(request("/tomcatnames/cgi-bin/env.py?format=json")
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("abc")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).as(describe(post)).isEqualTo(200);
        assertThat(Json.object(post.body())).containsEntry("REQUEST_METHOD", "POST")
                .containsEntry("CONTENT_LENGTH", "3");
        // control: the unconfigured war runs scripts for any method
        HttpResponse<String> kilnPut = HTTP.send(request("/kiln/cgi-bin/env.py?format=json")
                .PUT(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(kilnPut.statusCode()).as(describe(kilnPut)).isEqualTo(200);
        assertThat(Json.object(kilnPut.body())).containsEntry("REQUEST_METHOD", "PUT");
    }

    @Test
    void stderrTimeoutIsMillisecondsAsInTomcat() throws Exception {
        // linger.sh closes stdout, then sleeps 5 s holding stderr: the request ends when Kiln stops waiting
        long shortWait = timedLinger("/tomcatnames/cgi-bin/linger.sh");
        assertThat(shortWait).as("ms with stderrTimeout=300").isBetween(300L, 1_500L);
        long defaultWait = timedLinger("/tomcatshell/cgi-bin/linger.sh");
        assertThat(defaultWait).as("ms with the default stderr-timeout of 2s").isBetween(1_900L, 4_500L);
    }

    private static long timedLinger(String path) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r = get(path);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
        assertThat(r.body()).isEqualTo("lingering\n");
        return millis;
    }

    // ---------------------------------------------------------------------------------------------------------
    // helpers

    private static String requiredProperty(String name) {
        String v = System.getProperty(name);
        assertThat(v).as("system property %s (set by maven-failsafe)", name).isNotBlank();
        return v;
    }

    private static HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30));
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, Object> status(String context) throws Exception {
        HttpResponse<String> r = get(context + "/kiln/status");
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/json"));
        return Json.object(r.body());
    }

    private static String describe(HttpResponse<String> r) {
        String body = r.body() == null ? "" : r.body();
        return r.request().method() + " " + r.uri().getRawPath() + " -> " + r.statusCode() + ": "
                + (body.length() > 2000 ? body.substring(0, 2000) + "..." : body) + "\n--- Tomcat log tail ---\n"
                + logTail(60);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static Path real(Path p) throws IOException {
        return p.toRealPath();
    }

    private static void awaitOk(String path, long deadlineNanos) throws InterruptedException {
        String last = "no answer";
        while (System.nanoTime() < deadlineNanos) {
            if (!tomcat.isAlive()) {
                throw new AssertionError("Tomcat exited with status " + tomcat.exitValue() + " before " + path
                        + " answered\n--- Tomcat log tail ---\n" + logTail(200));
            }
            try {
                HttpResponse<String> r = HTTP.send(request(path).timeout(Duration.ofSeconds(5)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + r.statusCode();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(250);
        }
        throw new AssertionError("http://127.0.0.1:" + port + path + " did not answer 200 within "
                + START_TIMEOUT.toSeconds() + " s (last: " + last + ")\n--- Tomcat log tail ---\n" + logTail(200));
    }

    private static String logTail(int lines) {
        StringBuilder out = new StringBuilder();
        try {
            if (console != null && Files.exists(console)) {
                List<String> all = Files.readAllLines(console, StandardCharsets.UTF_8);
                all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> out.append(l).append('\n'));
            }
        } catch (IOException e) {
            out.append("(cannot read ").append(console).append(": ").append(e).append(")\n");
        }
        return out.toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void unzip(Path zip, Path to) throws IOException {
        Path root = Files.createDirectories(to).toAbsolutePath().normalize();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                Path target = root.resolve(e.getName()).normalize();
                if (!target.startsWith(root)) {
                    throw new IOException("zip entry leaves the folder: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(in, target);
                }
            }
        }
    }

    private static DocumentBuilder xmlParser(boolean namespaces) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(namespaces);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        return f.newDocumentBuilder();
    }

    private static void writeXml(Document doc, Path file) throws Exception {
        Transformer t = TransformerFactory.newInstance().newTransformer();
        t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
        try (OutputStream out = Files.newOutputStream(file)) {
            t.transform(new DOMSource(doc), new StreamResult(out));
        }
    }

    /** One HTTP connector on 127.0.0.1:port, no AJP, no TLS connector, no shutdown port. */
    private static void rewriteServerXml(Path serverXml, int httpPort) throws Exception {
        Document doc = xmlParser(false).parse(serverXml.toFile());
        Element server = doc.getDocumentElement();
        assertThat(server.getTagName()).isEqualTo("Server");
        server.setAttribute("port", "-1");
        int http = 0;
        NodeList connectors = doc.getElementsByTagName("Connector");
        for (Element c : elements(connectors)) {
            String protocol = c.getAttribute("protocol");
            if (protocol.toUpperCase().contains("AJP") || "true".equalsIgnoreCase(c.getAttribute("SSLEnabled"))) {
                c.getParentNode().removeChild(c);
                continue;
            }
            c.setAttribute("port", Integer.toString(httpPort));
            c.setAttribute("address", "127.0.0.1");
            c.removeAttribute("redirectPort");
            http++;
        }
        assertThat(http).as("HTTP connectors in %s", serverXml).isEqualTo(1);
        writeXml(doc, serverXml);
        String written = Files.readString(serverXml);
        assertThat(written).contains("port=\"" + httpPort + "\"").contains("port=\"-1\"");
    }

    /** Adds init-params to the servlet named "cgi", before its load-on-startup as the schema orders them. */
    private static void addCgiInitParams(Path webXml, Map<String, String> params) throws Exception {
        Document doc = xmlParser(true).parse(new InputSource(new StringReader(Files.readString(webXml))));
        Element cgi = null;
        for (Element servlet : elements(doc.getElementsByTagNameNS("*", "servlet"))) {
            for (Element name : elements(servlet.getElementsByTagNameNS("*", "servlet-name"))) {
                if (name.getTextContent().trim().equals("cgi")) {
                    cgi = servlet;
                }
            }
        }
        assertThat(cgi).as("servlet 'cgi' in %s", webXml).isNotNull();
        String ns = cgi.getNamespaceURI();
        Node before = null;
        for (Element e : elements(cgi.getElementsByTagNameNS("*", "load-on-startup"))) {
            before = e;
        }
        for (Map.Entry<String, String> p : params.entrySet()) {
            Element param = doc.createElementNS(ns, "init-param");
            Element name = doc.createElementNS(ns, "param-name");
            name.setTextContent(p.getKey());
            Element value = doc.createElementNS(ns, "param-value");
            value.setTextContent(p.getValue());
            param.appendChild(name);
            param.appendChild(value);
            cgi.insertBefore(param, before);
        }
        writeXml(doc, webXml);
    }

    private static List<Element> elements(NodeList list) {
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < list.getLength(); i++) {
            out.add((Element) list.item(i));
        }
        return out;
    }

    private record RawResponse(String head, int status, String body) {
    }

    /** A GET with the path exactly as given on the wire (no client-side normalisation or re-encoding). */
    private static RawResponse rawGet(String path) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.ISO_8859_1);
            int split = text.indexOf("\r\n\r\n");
            String head = split < 0 ? text : text.substring(0, split);
            String body = split < 0 ? "" : text.substring(split + 4);
            String[] statusLine = head.split("\r\n", 2)[0].split(" ");
            assertThat(statusLine.length).as("status line of %s: %s", path, head).isGreaterThanOrEqualTo(2);
            return new RawResponse(head, Integer.parseInt(statusLine[1]), body);
        }
    }

    /** Just enough JSON for env.py and /kiln/status: objects, arrays, strings, numbers, booleans, null. */
    static final class Json {
        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> object(String text) {
            Json p = new Json(text);
            Object v = p.value();
            p.ws();
            if (p.i != text.length() || !(v instanceof Map)) {
                throw new AssertionError("not a JSON object: " + text);
            }
            return (Map<String, Object>) v;
        }

        private Object value() {
            ws();
            char c = s.charAt(i);
            switch (c) {
                case '{' -> {
                    i++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    ws();
                    if (s.charAt(i) == '}') {
                        i++;
                        return m;
                    }
                    while (true) {
                        ws();
                        String k = string();
                        ws();
                        expect(':');
                        m.put(k, value());
                        ws();
                        if (s.charAt(i) == ',') {
                            i++;
                        } else {
                            expect('}');
                            return m;
                        }
                    }
                }
                case '[' -> {
                    i++;
                    List<Object> l = new ArrayList<>();
                    ws();
                    if (s.charAt(i) == ']') {
                        i++;
                        return l;
                    }
                    while (true) {
                        l.add(value());
                        ws();
                        if (s.charAt(i) == ',') {
                            i++;
                        } else {
                            expect(']');
                            return l;
                        }
                    }
                }
                case '"' -> {
                    return string();
                }
                default -> {
                    for (String word : List.of("true", "false", "null")) {
                        if (s.startsWith(word, i)) {
                            i += word.length();
                            return word.equals("null") ? null : Boolean.valueOf(word);
                        }
                    }
                    int start = i;
                    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                        i++;
                    }
                    if (start == i) {
                        throw new AssertionError("bad JSON at " + i + ": " + s);
                    }
                    return Double.valueOf(s.substring(start, i));
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
        }

        private void expect(char c) {
            if (i >= s.length() || s.charAt(i) != c) {
                throw new AssertionError("expected '" + c + "' at " + i + " in JSON: " + s);
            }
            i++;
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }
    }
}
