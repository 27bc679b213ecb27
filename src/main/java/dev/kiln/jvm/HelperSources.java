package dev.kiln.jvm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import dev.kiln.cgi.Shebang;

/**
 * Which {@code .java} files are classes other Java scripts use (a sibling of a multi-file program) rather than
 * programs: a file without a {@code #!} line and without a {@code main} method. Clients never run them and the
 * index never lists them. A file is read once per change: a request checks it with one stat call.
 */
final class HelperSources {
    static final Pattern MAIN = Pattern.compile("\\bvoid\\s+main\\s*\\(");

    /** A file as last read: whether it had a main method. */
    private record Seen(FileStamp stamp, boolean helper) {
    }

    private final Map<Path, Seen> seen = new ConcurrentHashMap<>();

    /** Whether {@code source} (a file named .java) is a helper class, not a program of its own. */
    boolean helper(Path source) {
        Seen s = seen.get(source);
        if (s != null && s.stamp().current()) {
            return s.helper();
        }
        FileStamp stamp = FileStamp.of(source);
        boolean helper;
        try {
            helper = Shebang.read(source).isEmpty()
                    && !MAIN.matcher(Files.readString(source, StandardCharsets.UTF_8)).find();
        } catch (IOException e) {
            return false; // unreadable: the request's own read says why
        }
        seen.put(source, new Seen(stamp, helper));
        return helper;
    }

    /** Why a request for {@code source} is refused, when it is a helper class. */
    Optional<String> refusal(Path source) {
        return helper(source) ? Optional.of("it is a class other Java scripts use (it has no main method), not a "
                + "program of its own; fix: request the script that uses it, or give it a main method")
                : Optional.empty();
    }
}
