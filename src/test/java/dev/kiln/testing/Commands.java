package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A command the test runs to its end: {@code Commands.of("hg", "init").in(dir).ok()}. Its environment is this
 * JVM's unless {@link #cleanEnv} replaces it; stdin is /dev/null; a command that outlives its timeout is killed
 * with its children and fails the test with what it printed.
 */
public final class Commands {
    /** Runs a command as user nobody (sessions and CI run as root, which permission bits do not stop). */
    public static final List<String> AS_NOBODY = List.of("setpriv", "--reuid=nobody", "--regid=nogroup",
            "--clear-groups");

    private final List<String> command;
    private Path dir;
    private Consumer<Map<String, String>> env = e -> { };
    private Duration timeout = Duration.ofSeconds(120);
    private boolean mergeStderr;

    private Commands(List<String> command) {
        this.command = List.copyOf(command);
    }

    public static Commands of(String... command) {
        return of(List.of(command));
    }

    public static Commands of(List<String> command) {
        return new Commands(command);
    }

    /** {@code java} of the JVM running the tests, with these arguments. */
    public static Commands java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(args));
        return of(cmd);
    }

    /** One finished command. */
    public record Result(int exit, String stdout, String stderr) {
        /** stdout (which holds stderr too after {@link #mergeStderr()}). */
        public String output() {
            return stdout;
        }
    }

    public Commands in(Path workingDir) {
        this.dir = workingDir;
        return this;
    }

    /** Nothing of this JVM's environment: PATH=/usr/bin:/bin and {@code vars}. */
    public Commands cleanEnv(Map<String, String> vars) {
        return env(e -> {
            e.clear();
            e.put("PATH", "/usr/bin:/bin");
            e.putAll(vars);
        });
    }

    /** Edits the environment the command gets. */
    public Commands env(Consumer<Map<String, String>> edit) {
        this.env = this.env.andThen(edit);
        return this;
    }

    public Commands timeout(Duration limit) {
        this.timeout = limit;
        return this;
    }

    /** stderr into stdout, interleaved as the command wrote them. */
    public Commands mergeStderr() {
        this.mergeStderr = true;
        return this;
    }

    /** Starts the command with its output going to files, for commands run side by side. */
    public Process start(Path out, Path err) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null")
                .toFile())).redirectOutput(out.toFile());
        if (mergeStderr) {
            pb.redirectErrorStream(true);
        } else {
            pb.redirectError(err.toFile());
        }
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        env.accept(pb.environment());
        return pb.start();
    }

    /** Runs it to its end, whatever its exit code. */
    public Result run() throws Exception {
        Path out = Files.createTempFile("kiln-test-cmd", ".out");
        Path err = Files.createTempFile("kiln-test-cmd", ".err");
        try {
            Process p = start(out, err);
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(this + " did not finish within " + timeout.toSeconds() + " s; output:\n"
                        + Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs it, asserts exit code 0, returns its output (stdout and stderr together). */
    public String ok() throws Exception {
        mergeStderr();
        Result r = run();
        assertThat(r.exit()).as("%s exit code; output:%n%s", this, r.output()).isZero();
        return r.output();
    }

    @Override
    public String toString() {
        return "`" + String.join(" ", command) + "`";
    }
}
