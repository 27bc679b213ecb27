package dev.kiln.forkserver;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import dev.kiln.config.Option;
import dev.kiln.python.PythonRuntime;
import dev.kiln.testing.KilnTestServer;

/**
 * A scripts folder, a cache prefix and Kiln's Python runtime in a temporary folder, and the two ways to run a
 * script there: as a fork-server child, and classic ({@code python kiln_boot.py rw timestamp ROOT script}).
 * As a JUnit extension ({@code @RegisterExtension}) it makes a new folder before each test (which it skips
 * without Debian's python3) and closes the fork-servers it started and removes the folder after.
 */
final class ForkFixture implements BeforeEachCallback, AfterEachCallback {
    static final Path PYTHON = Path.of(KilnTestServer.DEBIAN_PYTHON);
    /** Kiln's own default preload list, the option's default. */
    static final List<String> DEFAULT_PRELOAD = List.of(Option.PRELOAD.defaultValue().split(","));

    private final List<ForkServer> started = new ArrayList<>();
    Path base;
    Path scripts;
    Path prefix;
    PythonRuntime runtime;
    /** Whether requests end the quick way (kiln_forkexit.py). */
    boolean quickExit;

    /** A finished script: what it wrote and how it ended. */
    record Run(String stdout, String stderr, int exit) {
        /** stderr without the loader's lines (its counters, the modules it read itself). */
        String userStderr() {
            return stderr.replaceAll("\u001ekiln:(stats|cold) [^\n]*\n", "");
        }
    }

    /** For {@code @RegisterExtension}: each test gets its own folder. */
    ForkFixture() {
    }

    /** In {@code base}, for a process of its own ({@link KilnStandIn}). */
    ForkFixture(Path base) throws IOException {
        use(base);
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        assumeTrue(Files.isExecutable(PYTHON), PYTHON + " is needed");
        quickExit = false;
        use(Files.createTempDirectory("kiln-forktest-"));
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        started.forEach(ForkServer::close);
        started.clear();
        try (Stream<Path> all = Files.walk(base)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private void use(Path folder) throws IOException {
        base = folder;
        scripts = Files.createDirectories(base.resolve("cgi-bin"));
        prefix = Files.createDirectories(base.resolve("cache"));
        runtime = PythonRuntime.install(base.resolve("runtime"), -1);
    }

    /** What scripts get besides the CGI variables: the same for the fork-server and for classic runs. */
    Map<String, String> baseEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("LANG", "C.UTF-8");
        env.put("PYTHONPYCACHEPREFIX", prefix.toString());
        return env;
    }

    ForkServerSpec spec(List<String> flags, Map<String, String> env, List<String> preload) {
        return new ForkServerSpec(PYTHON, flags, env, runtime.dir(), "rw", "timestamp", scripts, preload,
                Duration.ofSeconds(30));
    }

    /** A fork-server with the default preload list and {@link #baseEnv()}, closed after the test. */
    ForkServer start() throws IOException {
        return start(spec(List.of(), baseEnv(), DEFAULT_PRELOAD));
    }

    ForkServer start(ForkServerSpec spec) throws IOException {
        ForkServer server = ForkServer.start(spec);
        started.add(server);
        return server;
    }

    Path write(String relative, String content) throws IOException {
        Path p = scripts.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        return p;
    }

    List<String> bootArgs(Path script, String... args) {
        List<String> argv = new ArrayList<>(List.of("rw", "timestamp", scripts.toString(), script.toString()));
        argv.addAll(List.of(args));
        return argv;
    }

    ForkRequest request(Path script, Map<String, String> env, String... args) {
        return ForkRequest.of(bootArgs(script, args), env, script.getParent()).withQuickExit(quickExit);
    }

    /** Forks {@code script}, feeds it {@code body}, reads both outputs and waits for its exit. */
    Run fork(ForkServer server, Path script, Map<String, String> env, String body, String... args)
            throws IOException, InterruptedException {
        return finish(server.fork(request(script, env, args)), body);
    }

    /** Runs {@code script} as Kiln's classic mode does, with exactly {@code env}. */
    Run classic(List<String> flags, Path script, Map<String, String> env, String body, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(PYTHON.toString());
        cmd.addAll(flags);
        cmd.add(runtime.boot().toString());
        cmd.addAll(bootArgs(script, args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(script.getParent().toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        return finish(p.getOutputStream(), p.getInputStream(), p.getErrorStream(), p::waitFor, body);
    }

    static Run finish(ForkedChild child, String body) throws IOException, InterruptedException {
        return finish(child.stdin(), child.stdout(), child.stderr(), child::waitFor, body);
    }

    interface Waiter {
        int waitFor() throws InterruptedException;
    }

    private static Run finish(OutputStream stdin, InputStream stdout, InputStream stderr, Waiter exit, String body)
            throws IOException, InterruptedException {
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(stderr));
        try (stdin) {
            if (body != null) {
                stdin.write(body.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException scriptDidNotRead) {
            // allowed, as with a pipe
        }
        String out = readAll(stdout);
        int code = exit.waitFor();
        try {
            return new Run(out, err.get(10, TimeUnit.SECONDS), code);
        } catch (Exception e) {
            throw new IOException("stderr not closed", e);
        }
    }

    static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
