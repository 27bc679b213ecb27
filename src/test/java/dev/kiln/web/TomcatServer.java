package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.kiln.testing.Commands;
import dev.kiln.testing.FreePort;
import dev.kiln.testing.Json;
import dev.kiln.testing.Poll;

/**
 * The built {@code target/kiln.war} in a real Tomcat ({@code catalina.sh run} as a child process, its own
 * CATALINA_BASE, an HTTP connector on a free port of 127.0.0.1), shared by the Tomcat test classes of one run
 * (see {@link SharedTomcat}).
 *
 * <p>One Tomcat serves three contexts:
 * <ul>
 * <li>{@code /kiln}: kiln.war dropped into webapps/ as it is; Tomcat unpacks it.</li>
 * <li>{@code /tomcatnames}: the same war, unpacked by the test, whose web.xml gives the CGI servlet Tomcat
 * CGIServlet init-params ({@code cgiPathPrefix}, {@code passShellEnvironment=false}, {@code envHttpHeaders},
 * {@code cgiMethods}, {@code stderrTimeout}).</li>
 * <li>{@code /tomcatshell}: the same again with only {@code passShellEnvironment=true}, the control that shows
 * the names are read (a variable of Tomcat's environment reaches scripts here and only here).</li>
 * <li>{@code /existing} and {@code /migrated}: webapps of their own with kiln-servlet.jar added
 * ({@link ExistingWebapps}).</li>
 * </ul>
 *
 * <p>Runs under maven-failsafe with the system properties {@code kiln.war} and {@code tomcat.home}.
 */
final class TomcatServer implements AutoCloseable {
    static final String PYTHON = "/usr/bin/python3";
    /** In Tomcat's environment; only passShellEnvironment=true lets scripts see it. */
    static final String SHELL_MARKER = "TOMCAT_IT_SHELL_MARKER";
    static final String SHELL_MARKER_VALUE = "from-tomcat-environment";
    /** KILN_MAX_CONCURRENT in Tomcat's environment. */
    static final int MAX_CONCURRENT = 12;
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

    final Path base;
    final int port;
    private final Path temp;
    private final Path console;
    private final Process tomcat;
    private final Thread shutdownHook;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    private TomcatServer(Path temp, Path base, int port, Path console, Process tomcat) {
        this.temp = temp;
        this.base = base;
        this.port = port;
        this.console = console;
        this.tomcat = tomcat;
        this.shutdownHook = new Thread(this::stopQuietly, "stop-tomcat");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    static TomcatServer start() throws Exception {
        Path war = Path.of(requiredProperty("kiln.war"));
        Path home = Path.of(requiredProperty("tomcat.home")).toAbsolutePath().normalize();
        assertThat(war).as("kiln.war (run after package)").isRegularFile();
        assertThat(home.resolve("bin/catalina.sh")).as("Tomcat unpacked by the pom").isRegularFile();
        assertThat(Path.of(PYTHON)).as("Debian's python3").isExecutable();

        // others may enter it, as a real CATALINA_BASE: Tomcat runs as root here and Kiln's scripts as nobody
        Path temp = Files.createTempDirectory("kiln-tomcat-", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Path base = temp.resolve("catalina-base");
        for (String dir : List.of("conf", "logs", "temp", "work", "webapps")) {
            Files.createDirectories(base.resolve(dir));
        }
        CatalinaBase.copyTree(home.resolve("conf"), base.resolve("conf"));
        int port = FreePort.pick();
        CatalinaBase.rewriteServerXml(base.resolve("conf/server.xml"), port);

        Path webapps = base.resolve("webapps");
        Files.copy(war, webapps.resolve("kiln.war"));

        Path names = webapps.resolve("tomcatnames");
        CatalinaBase.unzip(war, names);
        Map<String, String> tomcatParams = new LinkedHashMap<>();
        tomcatParams.put("debug", "0"); // a Tomcat name Kiln ignores; must not stop the start
        tomcatParams.put("cgiPathPrefix", "WEB-INF/other-cgi");
        tomcatParams.put("passShellEnvironment", "false");
        tomcatParams.put("envHttpHeaders", HEADER_REGEX);
        tomcatParams.put("cgiMethods", "GET,POST");
        tomcatParams.put("stderrTimeout", "300");
        tomcatParams.put("max-concurrent", "3"); // KILN_MAX_CONCURRENT beats it, as a variable beats the file
        CatalinaBase.addCgiInitParams(names.resolve("WEB-INF/web.xml"), tomcatParams);
        Path other = Files.createDirectories(names.resolve("WEB-INF/other-cgi"));
        Files.copy(names.resolve("WEB-INF/cgi-bin/env.py"), other.resolve("env.py"));
        Files.writeString(other.resolve("linger.sh"), LINGER_SH);

        Path shell = webapps.resolve("tomcatshell");
        CatalinaBase.unzip(war, shell);
        CatalinaBase.addCgiInitParams(shell.resolve("WEB-INF/web.xml"), Map.of("passShellEnvironment", "true"));
        Files.writeString(shell.resolve("WEB-INF/cgi-bin/linger.sh"), LINGER_SH);
        ExistingWebapps.install(base);

        Path console = base.resolve("logs/console.out");
        Process process = Commands.of(home.resolve("bin/catalina.sh").toString(), "run").in(base).mergeStderr()
                .cleanEnv(Map.ofEntries(
                        Map.entry("JAVA_HOME", System.getProperty("java.home")),
                        Map.entry("CATALINA_HOME", home.toString()),
                        Map.entry("CATALINA_BASE", base.toString()),
                        Map.entry("CATALINA_OPTS", "-Xmx256m"),
                        // catalina.sh's default 0027 keeps the unpacked webapp and ${catalina.base}/kiln (the cache)
                        // from the script user; Kiln refuses to start then, with the fix
                        Map.entry("UMASK", "0022"),
                        Map.entry("KILN_PYTHON", PYTHON),
                        Map.entry("KILN_MAX_CONCURRENT", Integer.toString(MAX_CONCURRENT)),
                        // not options: one WARN naming KILN_HOME; the Kubernetes service links quietly ignored
                        Map.entry("KILN_HOME", "/opt/kiln"),
                        Map.entry("KILN_PORT", "tcp://10.0.0.11:8080"),
                        Map.entry("KILN_SERVICE_HOST", "10.0.0.11"),
                        Map.entry(SHELL_MARKER, SHELL_MARKER_VALUE)))
                .start(console, console);
        TomcatServer t = new TomcatServer(temp, base, port, console, process);
        try {
            for (String ready : List.of("/kiln/cgi-bin/hello.py", "/tomcatnames/cgi-bin/env.py",
                    "/tomcatshell/cgi-bin/hello.py", "/existing/cgi-bin/hello.py", "/migrated/cgi-bin/report.sh")) {
                t.awaitOk(ready);
            }
        } catch (Exception | AssertionError notUp) {
            t.close();
            throw notUp;
        }
        return t;
    }

    private static String requiredProperty(String name) {
        String v = System.getProperty(name);
        assertThat(v).as("system property %s (set by maven-failsafe)", name).isNotBlank();
        return v;
    }

    private void awaitOk(String path) throws Exception {
        int status = Poll.within(START_TIMEOUT).every(Duration.ofMillis(250)).latest(() -> {
            if (!tomcat.isAlive()) {
                throw new AssertionError("Tomcat exited with status " + tomcat.exitValue() + " before " + path
                        + " answered\n--- Tomcat log tail ---\n" + logTail(200));
            }
            try {
                return send(request(path).timeout(Duration.ofSeconds(5)).GET().build()).statusCode();
            } catch (IOException notYet) {
                return -1;
            }
        }, answered -> answered == 200);
        if (status != 200) {
            throw new AssertionError("http://127.0.0.1:" + port + path + " did not answer 200 within "
                    + START_TIMEOUT.toSeconds() + " s (last: " + status + ")\n--- Tomcat log tail ---\n" + logTail(200));
        }
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30));
    }

    HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(request(path).GET().build());
    }

    /** A path under CATALINA_BASE, links resolved (as Kiln reports paths). */
    Path real(String relative) throws IOException {
        return base.resolve(relative).toRealPath();
    }

    /** A context's /kiln/status, read. */
    Map<String, Object> status(String context) throws Exception {
        HttpResponse<String> r = get(context + "/kiln/status");
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/json"));
        return Json.map(r.body());
    }

    /** The exchange and Tomcat's log tail, for assertion messages. */
    String describe(HttpResponse<String> r) {
        String body = r.body() == null ? "" : r.body();
        return r.request().method() + " " + r.uri().getRawPath() + " -> " + r.statusCode() + ": "
                + (body.length() > 2000 ? body.substring(0, 2000) + "..." : body) + "\n--- Tomcat log tail ---\n"
                + logTail(60);
    }

    /** Tomcat's console so far: its log and Kiln's. */
    String log() throws IOException {
        return Files.readString(console);
    }

    private String logTail(int lines) {
        StringBuilder out = new StringBuilder();
        try {
            if (Files.exists(console)) {
                List<String> all = Files.readAllLines(console, StandardCharsets.UTF_8);
                all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> out.append(l).append('\n'));
            }
        } catch (IOException e) {
            out.append("(cannot read ").append(console).append(": ").append(e).append(")\n");
        }
        return out.toString();
    }

    /** Stops Tomcat; its console (its log and Kiln's) outlives the run as target/TomcatWarIT-console.log. */
    @Override
    public void close() throws Exception {
        stopQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook runs anyway
        }
        Path target = Path.of(requiredProperty("kiln.war")).toAbsolutePath().getParent();
        Files.copy(console, target.resolve("TomcatWarIT-console.log"), StandardCopyOption.REPLACE_EXISTING);
        Commands.of("rm", "-rf", temp.toString()).ok();
        if (tomcat.isAlive()) {
            throw new IllegalStateException("Tomcat still running after stop");
        }
    }

    /** SIGTERM (Tomcat's orderly shutdown), SIGKILL if it lingers, then whatever it left behind. */
    private synchronized void stopQuietly() {
        if (!tomcat.isAlive()) {
            return;
        }
        List<ProcessHandle> tree = tomcat.descendants().toList();
        tomcat.destroy();
        try {
            if (!tomcat.waitFor(30, TimeUnit.SECONDS)) {
                tomcat.destroyForcibly();
                tomcat.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            tomcat.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle h : tree) {
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
    }
}
