package dev.kiln.cache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * What Kiln checks of the cache's folders itself: that only Kiln's user can write them, that the script group may
 * read them when scripts run as another user, and whether a problem a loader reported is real.
 */
final class CacheFolders {
    /** rwxr-s---: the script group may read, and what is made inside keeps that group. */
    private static final int SHARED_DIR_MODE = 02750;

    private final ProcessUser user;
    private final int shareGid;

    CacheFolders(ProcessUser user, int shareGid) {
        this.user = user;
        this.shareGid = shareGid;
    }

    /** Whether Kiln sees the problem too: the file is unreadable (for the script group), or the folder unwritable. */
    boolean confirmed(CacheOp op, String errno, Path path, Path dir) {
        if (op == CacheOp.READ) {
            if (Files.notExists(path, LinkOption.NOFOLLOW_LINKS)) {
                return false; // surely absent: nothing to read (a folder Kiln cannot enter is not "surely")
            }
            if (!Files.isReadable(path)) {
                return true;
            }
            try {
                int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                int gid = (Integer) Files.getAttribute(path, "unix:gid", LinkOption.NOFOLLOW_LINKS);
                return shareGid >= 0 && (gid != shareGid || (mode & 040) == 0);
            } catch (IOException | UnsupportedOperationException e) {
                return true;
            }
        }
        return !isWritableDir(dir, BytecodeCache.FILESYSTEM_WIDE.contains(errno) ? 64 * 1024 : 0);
    }

    /** Gives the script group read access to a folder of Kiln's (mode 2750), when scripts run as another user. */
    void share(Path dir) {
        try {
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (shareGid < 0 || owner != user.uid()) {
                return;
            }
            if ((Integer) Files.getAttribute(dir, "unix:gid", LinkOption.NOFOLLOW_LINKS) != shareGid) {
                Files.setAttribute(dir, "unix:gid", shareGid, LinkOption.NOFOLLOW_LINKS);
            }
            if (((Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777)
                    != SHARED_DIR_MODE) {
                Files.setAttribute(dir, "unix:mode", SHARED_DIR_MODE, LinkOption.NOFOLLOW_LINKS);
            }
        } catch (IOException e) {
            // a read-only cache keeps the modes it was built with; the write probe says what else is wrong
        }
    }

    /** Null when the folder is missing or Kiln's user's (or root's) alone to write; otherwise why it is not. */
    String unsafeReason(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        try {
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != user.uid() && owner != 0) {
                return "owned by uid " + owner + ", not by " + user.name() + " (uid " + user.uid() + ")";
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
            if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                return "writable by other users (mode " + PosixFilePermissions.toString(perms) + ")";
            }
            if (Files.isSymbolicLink(dir)) {
                return "a symbolic link";
            }
            return null;
        } catch (IOException | UnsupportedOperationException e) {
            return null; // cannot tell: the write probe will report what is wrong
        }
    }

    static boolean isWritableDir(Path dir, int bytes) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        Path probe = dir.resolve(".kiln-probe-" + ProcessHandle.current().pid());
        try {
            Files.deleteIfExists(probe);
            Files.write(probe, new byte[bytes], StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException e) {
                // nothing was left if it could not be created
            }
        }
    }
}
