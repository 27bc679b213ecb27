package dev.kiln.python;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;

import dev.kiln.forkserver.ForkServerSpec;

/**
 * The small Python files Kiln ships as resources (the bootstrap that runs every Python script, its loader, the
 * precompiler, the fork-server), written once into a private folder. They are rewritten only when their content
 * differs, so their own bytecode stays cached across restarts.
 */
public final class PythonRuntime {
    public static final String BOOT = "kiln_boot.py";
    public static final String LOADER = "kiln_loader.py";
    public static final String PRECOMPILE = "kiln_precompile.py";
    /** Every file Kiln ships to the runtime folder. */
    public static final List<String> FILES = List.of(BOOT, LOADER, PRECOMPILE, "kiln_protocol.py", "kiln_pyc.py",
            "kiln_store.py", ForkServerSpec.SCRIPT, "kiln_forkloop.py", "kiln_forkchild.py", "kiln_forkexit.py");

    private final Path dir;

    private PythonRuntime(Path dir) {
        this.dir = dir;
    }

    /**
     * Writes the files into {@code preferred} (created 0700) or, when that fails, into a new private temporary
     * folder.
     */
    public static PythonRuntime install(Path preferred) throws IOException {
        try {
            return new PythonRuntime(write(preferred));
        } catch (IOException e) {
            return installPrivate();
        }
    }

    /** Writes the files into a new temporary folder only this user can enter, removed at exit. */
    public static PythonRuntime installPrivate() throws IOException {
        Path tmp = Files.createTempDirectory("kiln-runtime-"); // 0700
        tmp.toFile().deleteOnExit();
        PythonRuntime rt = new PythonRuntime(write(tmp));
        for (String f : FILES) {
            rt.dir.resolve(f).toFile().deleteOnExit();
        }
        return rt;
    }

    private static Path write(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        }
        for (String name : FILES) {
            byte[] content;
            try (InputStream in = PythonRuntime.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IOException("resource missing from the build: " + name);
                }
                content = in.readAllBytes();
            }
            Path target = dir.resolve(name);
            if (!Files.isRegularFile(target) || !Arrays.equals(Files.readAllBytes(target), content)) {
                Path tmp = Files.createTempFile(dir, name, ".tmp");
                Files.write(tmp, content);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            }
        }
        return dir;
    }

    public Path dir() {
        return dir;
    }

    /** The entry file every Python script runs through. */
    public Path boot() {
        return dir.resolve(BOOT);
    }

    public Path precompiler() {
        return dir.resolve(PRECOMPILE);
    }
}
