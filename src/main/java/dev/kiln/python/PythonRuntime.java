package dev.kiln.python;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
    public static final List<String> FILES = List.of(BOOT, LOADER, PRECOMPILE, "kiln_protocol.py", "kiln_importlib.py",
            "kiln_pyc.py", "kiln_store.py", ForkServerSpec.SCRIPT, "kiln_forkloop.py", "kiln_forkchild.py",
            "kiln_confine.py", "kiln_forkreap.py", "kiln_forkspawn.py", "kiln_forkexit.py", "kiln_warmcode.py");

    private final Path dir;

    private PythonRuntime(Path dir) {
        this.dir = dir;
    }

    /**
     * Writes the files into {@code preferred} (created 0700) or, when that fails, into a new private temporary
     * folder.
     *
     * @param shareGid the script user's group, which may read (never write) the files (folder 2750, files 0640),
     *                 or -1 for Kiln's user alone (0700, 0600)
     */
    public static PythonRuntime install(Path preferred, int shareGid) throws IOException {
        try {
            return new PythonRuntime(write(preferred, shareGid));
        } catch (IOException e) {
            return installPrivate(shareGid);
        }
    }

    /** Writes the files into a new temporary folder only this user (and {@code shareGid}) can enter. */
    public static PythonRuntime installPrivate(int shareGid) throws IOException {
        Path tmp = Files.createTempDirectory("kiln-runtime-"); // 0700
        tmp.toFile().deleteOnExit();
        PythonRuntime rt = new PythonRuntime(write(tmp, shareGid));
        for (String f : FILES) {
            rt.dir.resolve(f).toFile().deleteOnExit();
        }
        return rt;
    }

    private static Path write(Path dir, int shareGid) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        }
        share(dir, shareGid, 02750);
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
            share(target, shareGid, 0640);
        }
        return dir;
    }

    /** The script group's read access to one of Kiln's files or folders; nothing for a private runtime. */
    private static void share(Path path, int gid, int mode) throws IOException {
        if (gid >= 0) {
            Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(path, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
        }
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
