package dev.kiln.cgi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Maps the path after {@code /cgi-bin} to a script inside the scripts folder, segment by segment: the first
 * segment that is a regular file is the script, the rest is PATH_INFO. Nothing outside the folder is ever
 * resolved: dot segments, empty segments, NUL and backslashes are refused, hidden names ({@code .name}) are
 * refused, and a symlink is followed as option symlinks says ({@link Symlinks}). What runs is the real path
 * checked here, segment by segment.
 */
public final class ScriptResolver {

    /** Why a path did not resolve; each maps to one HTTP status. */
    public enum Refusal {
        NOT_FOUND(404), FORBIDDEN(403);

        public final int status;

        Refusal(int status) {
            this.status = status;
        }
    }

    /** Which symlinks are followed (option symlinks); one whose target stays inside the folder always is. */
    public enum Symlinks {
        /** Only those whose target stays inside the scripts folder. */
        INSIDE,
        /** Also those leaving it when the link and its target have the same owner (Apache's SymLinksIfOwnerMatch). */
        OWNER_MATCH,
        /** Every symlink (Apache's FollowSymLinks). */
        FOLLOW
    }

    /** Either a script or a refusal with the reason for the log. */
    public record Result(ResolvedScript script, Refusal refusal, String reason) {
        static Result refuse(Refusal r, String reason) {
            return new Result(null, r, reason);
        }
    }

    private final Path root;
    private final Symlinks symlinks;

    /** A resolver that follows only symlinks staying inside {@code root}. */
    public ScriptResolver(Path root) throws IOException {
        this(root, Symlinks.INSIDE);
    }

    /** @param root the scripts folder; its real path is taken once here */
    public ScriptResolver(Path root, Symlinks symlinks) throws IOException {
        this.root = root.toRealPath();
        this.symlinks = symlinks;
    }

    public Path root() {
        return root;
    }

    /** @param path the decoded path below the servlet mapping (servlet path info), may be null */
    public Result resolve(String path) {
        if (path == null || path.isEmpty() || path.equals("/")) {
            return Result.refuse(Refusal.NOT_FOUND, "no script named");
        }
        if (!path.startsWith("/")) {
            return Result.refuse(Refusal.NOT_FOUND, "path does not start with /");
        }
        Path current = root;
        int start = 1;
        while (start <= path.length()) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = path.length();
            }
            String segment = path.substring(start, end);
            Result refused = checkSegment(segment);
            if (refused != null) {
                return refused;
            }
            current = current.resolve(segment);
            BasicFileAttributes attrs;
            try {
                attrs = Files.readAttributes(current, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (attrs.isSymbolicLink()) {
                    Path real = current.toRealPath();
                    String leaves = notFollowed(current, real);
                    if (leaves != null) {
                        return Result.refuse(Refusal.FORBIDDEN, leaves);
                    }
                    current = real;
                    attrs = Files.readAttributes(current, BasicFileAttributes.class);
                }
            } catch (IOException e) {
                return Result.refuse(Refusal.NOT_FOUND, "no such script");
            }
            if (attrs.isRegularFile()) {
                // Each segment was checked on its own, so current is a real path: a folder swapped for a symlink
                // meanwhile shows as another real path. What runs is this real path, entered and read as checked
                // (ScriptRunner, the loader).
                Path real;
                try {
                    real = current.toRealPath();
                } catch (IOException e) {
                    return Result.refuse(Refusal.NOT_FOUND, "no such script");
                }
                if (!real.equals(current) || symlinks == Symlinks.INSIDE && !real.startsWith(root)
                        || !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
                    return Result.refuse(Refusal.FORBIDDEN, "path leaves the scripts folder: " + segment);
                }
                String rest = path.substring(end);
                return new Result(new ResolvedScript(real, path.substring(0, end), rest), null, null);
            }
            if (!attrs.isDirectory()) {
                return Result.refuse(Refusal.FORBIDDEN, "not a regular file: " + segment);
            }
            start = end + 1;
        }
        return Result.refuse(Refusal.NOT_FOUND, "names a folder, not a script");
    }

    /** Why the symlink {@code link} to {@code real} is not followed, or null. */
    private String notFollowed(Path link, Path real) throws IOException {
        if (real.startsWith(root) || symlinks == Symlinks.FOLLOW) {
            return null;
        }
        String named = root.relativize(link) + " -> " + real;
        if (symlinks == Symlinks.OWNER_MATCH) {
            Object linkOwner = Files.getAttribute(link, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            Object targetOwner = Files.getAttribute(real, "unix:uid");
            if (linkOwner.equals(targetOwner)) {
                return null;
            }
            return "symlink leaves the scripts folder for a target of another owner: " + named + " (uids "
                    + linkOwner + " and " + targetOwner + "); fix: chown -h the link to the target's owner, or set "
                    + "symlinks=follow";
        }
        return "symlink leaves the scripts folder: " + named + "; set symlinks=owner-match or follow to allow it";
    }

    private static Result checkSegment(String segment) {
        if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
            return Result.refuse(Refusal.FORBIDDEN, "empty or dot segment in path");
        }
        if (segment.indexOf('\0') >= 0 || segment.indexOf('\\') >= 0) {
            return Result.refuse(Refusal.FORBIDDEN, "NUL or backslash in path");
        }
        if (segment.startsWith(".")) {
            // hidden names are not admitted to exist
            return Result.refuse(Refusal.NOT_FOUND, "hidden name " + segment);
        }
        return null;
    }
}
