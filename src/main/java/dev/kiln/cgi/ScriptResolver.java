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
 * refused, and a symlink is followed only when its target stays inside the folder.
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

    /** Either a script or a refusal with the reason for the log. */
    public record Result(ResolvedScript script, Refusal refusal, String reason) {
        static Result refuse(Refusal r, String reason) {
            return new Result(null, r, reason);
        }
    }

    private final Path root;

    /** @param root the scripts folder; its real path is taken once here */
    public ScriptResolver(Path root) throws IOException {
        this.root = root.toRealPath();
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
                    if (!real.startsWith(root)) {
                        return Result.refuse(Refusal.FORBIDDEN, "symlink leaves the scripts folder: " + segment);
                    }
                    current = real;
                    attrs = Files.readAttributes(current, BasicFileAttributes.class);
                }
            } catch (IOException e) {
                return Result.refuse(Refusal.NOT_FOUND, "no such script");
            }
            if (attrs.isRegularFile()) {
                // Each segment was checked on its own: a folder swapped for a symlink meanwhile shows in the
                // real path. What runs is this real path, entered and read as checked (ScriptRunner, the loader).
                Path real;
                try {
                    real = current.toRealPath();
                } catch (IOException e) {
                    return Result.refuse(Refusal.NOT_FOUND, "no such script");
                }
                if (!real.startsWith(root) || !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
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
