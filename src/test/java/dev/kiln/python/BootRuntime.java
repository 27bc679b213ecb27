package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.kiln.testing.Bytecode;
import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnTestServer;

/**
 * Kiln's Python runtime files (kiln_boot.py, kiln_loader.py, kiln_precompile.py) copied to a runtime folder R,
 * a scripts folder and a cache prefix, all in one temporary folder; runs the real {@code /usr/bin/python3} on
 * them as Kiln does, or on a script alone as plain Python would.
 */
final class BootRuntime {
    static final String PYTHON = KilnTestServer.DEBIAN_PYTHON;

    final Path base;
    final Path runtime;
    final Path scripts;
    final Path prefix;

    BootRuntime(Path base) throws IOException {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is needed");
        this.base = base;
        this.runtime = Files.createDirectories(base.resolve("R"));
        this.scripts = Files.createDirectories(base.resolve("scripts"));
        this.prefix = base.resolve("cache").resolve("py");
        for (String name : PythonRuntime.FILES) {
            try (InputStream in = BootRuntime.class.getResourceAsStream("/dev/kiln/python/" + name)) {
                assertThat(in).as(name + " on the class path").isNotNull();
                Files.copy(in, runtime.resolve(name));
            }
        }
    }

    /** Writes a file below the scripts folder; returns its path. */
    String write(String relative, String text) throws IOException {
        Path file = scripts.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        return file.toString();
    }

    /** python3 kiln_boot.py MODE VALIDATION SCRIPTS SCRIPT ARGS..., as Kiln starts a Python script. */
    List<String> kilnCommand(String mode, String validation, String script, String... args) {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, runtime.resolve("kiln_boot.py").toString(), mode,
                validation, scripts.toString(), script));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The environment Kiln gives a script in {@code mode}. */
    Map<String, String> kilnEnv(String mode) {
        return mode.equals("off") ? Map.of("PYTHONDONTWRITEBYTECODE", "1")
                : Map.of("PYTHONPYCACHEPREFIX", prefix.toString());
    }

    PyRun kiln(String mode, String validation, String script, String... args) throws Exception {
        return run(kilnCommand(mode, validation, script, args), kilnEnv(mode));
    }

    PyRun plain(String script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script));
        cmd.addAll(List.of(args));
        return run(cmd, Map.of("PYTHONDONTWRITEBYTECODE", "1"));
    }

    /** The command as Kiln would run it: in the base folder, nothing of this JVM's environment but {@code env}. */
    Commands command(List<String> cmd, Map<String, String> env) {
        return Commands.of(cmd).in(base).cleanEnv(env).timeout(Duration.ofSeconds(20));
    }

    PyRun run(List<String> cmd, Map<String, String> env) throws Exception {
        Commands.Result r = command(cmd, env).run();
        return new PyRun(r.exit(), r.stdout(), r.stderr());
    }

    /** The pycs of the scripts folder under the prefix, stamped (see {@link Bytecode#stamps}). */
    Map<Path, String> pycsOfScripts() throws IOException {
        return Bytecode.stamps(Path.of(prefix + scripts.toString()));
    }

    /** Lets user nobody read the runtime and the scripts (a @TempDir is private to root). */
    void openToEveryone() throws IOException {
        try (Stream<Path> all = Files.walk(base)) {
            all.forEach(f -> {
                try {
                    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(
                            Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    /** A Python string literal of {@code s}. */
    static String pyStr(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r") + "'";
    }

    /** The PEP 552 flags of a pyc: 0 timestamp-based, 0b11 checked hash-based. */
    static int pycFlags(Path pyc) throws IOException {
        byte[] head = Files.readAllBytes(pyc);
        return ByteBuffer.wrap(head, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }
}
