package dev.kiln.cgi;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * Where chunked request bodies are spooled: a folder of Kiln's own, made at start with mode 0700 and emptied, and
 * refused when it exists with another owner, a looser mode or as a link (anyone may create a name in /tmp first).
 * Each body is a file created there with O_EXCL and O_NOFOLLOW and unlinked at once: it is only ever read through
 * the one open file, so nobody can swap it by name, and a crash leaves nothing behind.
 */
public final class SpoolFolder {
    /** O_CREAT|O_EXCL, O_NOFOLLOW, read and write. */
    private static final Set<OpenOption> CREATE = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    private static final FileAttribute<Set<PosixFilePermission>> PRIVATE_FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private final Path dir;
    private final SecureRandom random = new SecureRandom();

    private SpoolFolder(Path dir) {
        this.dir = dir;
    }

    /** Creates or checks {@code dir}, then removes whatever an earlier run left in it. */
    public static SpoolFolder prepare(Path dir) throws IOException {
        Files.createDirectories(dir.getParent());
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException there) {
            // checked below like any folder that was there first
        }
        int me = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
        boolean link = Files.isSymbolicLink(dir);
        if (link || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || owner != me || mode != 0700) {
            throw new IOException("request-body spool folder " + dir + " exists " + (link ? "as a symbolic link"
                    : "with owner uid " + owner + " and mode " + Integer.toOctalString(mode)) + ", not Kiln's "
                    + "alone (uid " + me + ", 700): another user could see or swap bodies in it; fix: remove it "
                    + "(rm -rf " + dir + ") and start Kiln again, or start Java with -Djava.io.tmpdir=DIR");
        }
        try (DirectoryStream<Path> left = Files.newDirectoryStream(dir)) {
            for (Path p : left) {
                Files.deleteIfExists(p);
            }
        }
        return new SpoolFolder(dir);
    }

    public Path dir() {
        return dir;
    }

    /** A new, already unlinked file for one body or response, open for writing and reading back. */
    FileChannel newFile(String prefix) throws IOException {
        byte[] name = new byte[12];
        random.nextBytes(name);
        Path file = dir.resolve(prefix + HexFormat.of().formatHex(name));
        FileChannel ch = FileChannel.open(file, CREATE, PRIVATE_FILE);
        Files.delete(file);
        return ch;
    }
}
