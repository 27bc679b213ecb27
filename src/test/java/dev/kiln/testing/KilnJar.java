package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built {@code target/kiln.jar} as a child process, the way an operator starts it:
 * {@code KilnJar.builder().in(dir).args("--scripts", s).start()}. It listens on 127.0.0.1 and, unless told a port,
 * on port 0: the port comes from its "serving http://..." line, which is awaited. Everything it prints is kept
 * (see {@link LogLines}); closing it stops it (SIGTERM, then SIGKILL).
 */
public final class KilnJar implements LogLines, KilnStatus, AutoCloseable {
    private static final Pattern SERVING = Pattern.compile("serving http://[^:/]+:(\\d+)/");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final List<String> log;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private int port;
    private Thread reader;

    private KilnJar(Process process, List<String> log) {
        this.process = process;
        this.log = log;
    }

    /** The jar {@code mvn package} built (failsafe names it in the system property kiln.jar). */
    public static Path path() {
        return Path.of(System.getProperty("kiln.jar", "target/kiln.jar")).toAbsolutePath();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Where and how to start it. */
    public static final class Builder {
        private Path jar = path();
        private Path launcher;
        private Path dir = Path.of("");
        private final List<String> prefix = new ArrayList<>();
        private final List<String> args = new ArrayList<>();
        private final Map<String, String> env = new HashMap<>();
        private int port;

        public Builder jar(Path file) {
            this.jar = file;
            return this;
        }

        /**
         * A script that runs the jar, called as {@code script JAR options...} with JAVA naming this JVM's java
         * ({@code bin/run-jar}), instead of {@code java -jar JAR options...}.
         */
        public Builder launchedBy(Path script) {
            this.launcher = script;
            return this;
        }

        /** The working directory; also HOME unless {@link #env} sets one. */
        public Builder in(Path workingDir) {
            this.dir = workingDir;
            return this;
        }

        /** A command the java command is handed to: {@link Commands#AS_NOBODY}, {@code unshare -m ...}. */
        public Builder through(List<String> command) {
            prefix.addAll(command);
            return this;
        }

        /** Command-line options after the defaults (--bind 127.0.0.1, --python /usr/bin/python3, --port). */
        public Builder args(String... options) {
            args.addAll(List.of(options));
            return this;
        }

        /**
         * A variable of its environment, which otherwise holds only PATH, HOME and LANG=C.UTF-8 (what a service
         * should be given); a null value removes it.
         */
        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /** A fixed port instead of 0. */
        public Builder port(int fixed) {
            this.port = fixed;
            return this;
        }

        public KilnJar start() throws Exception {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(prefix);
            cmd.addAll(launcher == null ? List.of(java, "-jar", jar.toString())
                    : List.of(launcher.toAbsolutePath().toString(), jar.toString()));
            cmd.addAll(List.of("--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--python", KilnTestServer.DEBIAN_PYTHON));
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toAbsolutePath().toFile()).redirectErrorStream(true);
            pb.environment().clear();
            pb.environment().put("PATH", "/usr/bin:/bin");
            pb.environment().put("HOME", dir.toAbsolutePath().toString());
            pb.environment().put("LANG", "C.UTF-8");
            if (launcher != null) {
                pb.environment().put("JAVA", java);
            }
            env.forEach((name, value) -> {
                if (value == null) {
                    pb.environment().remove(name);
                } else {
                    pb.environment().put(name, value);
                }
            });
            KilnJar kiln = new KilnJar(pb.start(), new CopyOnWriteArrayList<>());
            kiln.keepOutput();
            kiln.port = kiln.awaitServing();
            return kiln;
        }
    }

    private void keepOutput() {
        reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    log.add(line);
                }
            } catch (IOException ended) {
                // the process is gone
            }
        }, "kiln-jar-output");
        reader.setDaemon(true);
        reader.start();
    }

    private int awaitServing() throws Exception {
        String line = Poll.within(START_TIMEOUT).until("kiln.jar says it is serving", () -> {
            List<String> serving = matching("serving http://");
            if (serving.isEmpty() && !process.isAlive()) {
                throw new AssertionError("kiln.jar exited with " + process.exitValue() + " before serving:\n"
                        + String.join("\n", log));
            }
            return serving.isEmpty() ? null : serving.get(0);
        }, found -> found != null);
        Matcher m = SERVING.matcher(line);
        if (!m.find()) {
            throw new AssertionError("no port in " + line);
        }
        return Integer.parseInt(m.group(1));
    }

    public int port() {
        return port;
    }

    /** The java process's pid, for signals. */
    public long pid() {
        return process.pid();
    }

    /** Sends a signal (HUP, TERM, ...) to the java process. */
    public void signal(String name) throws Exception {
        Commands.of("kill", "-" + name, Long.toString(pid())).ok();
    }

    /** Waits for the process to exit on its own, and for the last of its output, and returns its exit code. */
    public int awaitExit(Duration limit) throws InterruptedException {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("kiln.jar still running after " + limit.toSeconds() + " s:\n" + logText());
        }
        reader.join(limit.toMillis());
        return process.exitValue();
    }

    @Override
    public List<String> lines() {
        return List.copyOf(log);
    }

    /** The whole log, for failure messages. */
    public String logText() {
        return String.join("\n", log);
    }

    @Override
    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The body of a GET that must answer 200; else the failure shows the body. */
    public String getOk(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = get(path);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    /** SIGKILL, as a crash or the OOM killer would: no shutdown, no drain. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, as systemd or podman stop it; returns its exit code (SIGKILL after 10 s). */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
