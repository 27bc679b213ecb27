package dev.kiln.cache;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

/**
 * Turns a cache failure into the one line an operator needs: what failed where, who Kiln runs as, who owns the
 * folder and with what mode, whether SELinux is enforcing, and the command that fixes it.
 */
public final class CacheDiagnostics {
    private final ProcessUser user;
    private final Path selinuxEnforce;

    public CacheDiagnostics(ProcessUser user) {
        this(user, Path.of("/sys/fs/selinux/enforce"));
    }

    CacheDiagnostics(ProcessUser user, Path selinuxEnforce) {
        this.user = user;
        this.selinuxEnforce = selinuxEnforce;
    }

    /** The symbolic errno for a Java file exception, as Python would name it. */
    public static String errno(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "EACCES";
        }
        if (e instanceof NoSuchFileException) {
            return "ENOENT";
        }
        if (e instanceof NotDirectoryException) {
            return "ENOTDIR";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "EEXIST";
        }
        String reason = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage();
        String r = reason == null ? "" : reason.toLowerCase(Locale.ROOT);
        if (r.contains("read-only file system")) {
            return "EROFS";
        }
        if (r.contains("no space left")) {
            return "ENOSPC";
        }
        if (r.contains("quota")) {
            return "EDQUOT";
        }
        if (r.contains("not a directory")) {
            return "ENOTDIR";
        }
        if (r.contains("permission denied")) {
            return "EACCES";
        }
        if (r.contains("operation not permitted")) {
            return "EPERM";
        }
        return "EIO";
    }

    /** The deepest existing path on the way to {@code p} (itself when it exists). */
    public static Path nearestExisting(Path p) {
        Path cur = p.toAbsolutePath();
        while (cur != null && !Files.exists(cur, LinkOption.NOFOLLOW_LINKS)) {
            cur = cur.getParent();
        }
        return cur == null ? Path.of("/") : cur;
    }

    /** SELinux state: enforcing, permissive or absent. */
    public String selinux() {
        try {
            String v = Files.readString(selinuxEnforce).strip();
            return v.equals("1") ? "enforcing" : "permissive";
        } catch (IOException e) {
            return "absent";
        }
    }

    /** The one-line description: path, operation, error, user, folder owner and mode, SELinux, fix. */
    public String describe(CacheProblem p, Path cacheRoot) {
        Path dir = p.dir();
        String owner = "?";
        String mode = "?";
        int ownerUid = -1;
        try {
            ownerUid = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
            mode = (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) ? "d" : "-")
                    + PosixFilePermissions.toString(Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS));
        } catch (IOException | UnsupportedOperationException | ClassCastException e) {
            // leave the question marks: the line still names the path and the error
        }
        String selinux = selinux();
        return p.op().word() + " " + p.path() + " failed: " + p.errno() + " (" + meaning(p.errno()) + "); kiln runs as "
                + user.name() + " (uid " + user.uid() + "); nearest existing " + dir + " is owned by " + owner
                + " with mode " + mode + "; SELinux " + selinux + "; fix: "
                + fix(p, dir, ownerUid, mode, selinux, cacheRoot);
    }

    private String fix(CacheProblem p, Path dir, int ownerUid, String mode, String selinux, Path root) {
        switch (p.errno()) {
            case "EROFS":
                return "the filesystem is read-only: precompile the cache where it is built "
                        + "(java -jar kiln.jar precompile --cache " + root + ") or point --cache at a writable folder";
            case "ENOSPC":
            case "EDQUOT":
                return "free space on the filesystem holding " + dir + " (df -h " + dir + ") "
                        + "or point --cache elsewhere";
            case "ENOTDIR":
            case "EEXIST":
                return "a file stands where a folder should be: rm " + dir;
            default:
                break;
        }
        if (ownerUid >= 0 && ownerUid != user.uid()) {
            String chown = "chown -R " + user.name() + " " + dir + " && chmod 700 " + dir;
            return p.op() == CacheOp.READ ? chown + " (for a cache built elsewhere: run precompile as "
                    + user.name() + ")" : chown;
        }
        if (mode.length() >= 4 && (mode.charAt(2) != 'w' || mode.charAt(3) != 'x')) {
            return "chmod u+rwx " + dir;
        }
        if (selinux.equals("enforcing")) {
            return "semanage fcontext -a -t httpd_sys_rw_content_t '" + root + "(/.*)?' && restorecon -Rv " + root;
        }
        return "check ACLs and mount options of " + dir + " (getfacl " + dir + "; findmnt -T " + dir + ")";
    }

    private static String meaning(String errno) {
        return switch (errno) {
            case "EACCES" -> "permission denied";
            case "EPERM" -> "operation not permitted";
            case "EROFS" -> "read-only file system";
            case "ENOSPC" -> "no space left on device";
            case "EDQUOT" -> "disk quota exceeded";
            case "ENOTDIR" -> "not a directory";
            case "EEXIST" -> "file exists";
            case "ENOENT" -> "no such file or directory";
            default -> "I/O error";
        };
    }
}
