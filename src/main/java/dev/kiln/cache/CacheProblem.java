package dev.kiln.cache;

import java.nio.file.Path;

/**
 * One cause of the cache not working, logged once while it lasts.
 *
 * @param op    what failed
 * @param errno the error's symbolic name, e.g. EACCES, EROFS, ENOSPC, ENOTDIR
 * @param path  the path the operation was on
 * @param dir   the deepest existing folder (or file) on the way to it: what the fix applies to
 */
public record CacheProblem(CacheOp op, String errno, Path path, Path dir) {
    /** Two reports of the same cause on the same folder are one problem. */
    public Key key() {
        return new Key(op, errno, dir);
    }

    public record Key(CacheOp op, String errno, Path dir) {
    }
}
