package dev.kiln.jvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * What one stat call says of a file a compile read (or a folder it searched): enough to see that it changed
 * without reading it. A file gone, replaced (another inode) or rewritten (size, modification time) is stale.
 *
 * @param path  the file or folder
 * @param size  its size in bytes
 * @param mtime its modification time in nanoseconds since the epoch
 * @param inode its file key, e.g. {@code (dev=803,ino=1234)}; empty when the filesystem has none
 */
public record FileStamp(Path path, long size, long mtime, String inode) {
    /** The file as it is now; a stamp that matches nothing when it cannot be read. */
    public static FileStamp of(Path path) {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Object key = a.fileKey();
            return new FileStamp(path, a.size(), a.lastModifiedTime().toInstant().getEpochSecond() * 1_000_000_000L
                    + a.lastModifiedTime().toInstant().getNano(), key == null ? "" : key.toString());
        } catch (IOException e) {
            return new FileStamp(path, -1, -1, "");
        }
    }

    /** Whether the file is still what this stamp says. */
    public boolean current() {
        return size >= 0 && equals(of(path));
    }

    /**
     * Whether the file has the same size and modification time but another file key: the same file seen through
     * another mount (a container's overlay, a restored backup), or a replacement only its content can tell apart.
     */
    public boolean movedOnly() {
        FileStamp now = of(path);
        return size >= 0 && size == now.size && mtime == now.mtime && !inode.equals(now.inode);
    }

    /** Whether every one of them is still current: the freshness check, stat calls only. */
    public static boolean allCurrent(List<FileStamp> stamps) {
        for (FileStamp s : stamps) {
            if (!s.current()) {
                return false;
            }
        }
        return true;
    }
}
