package dev.kiln.cgi;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A script's {@code #!} line. Unlike the kernel, which passes everything after the interpreter as one argument,
 * Kiln splits it on white space, so {@code #!/usr/bin/python3 -u -X dev} works as written.
 *
 * @param interpreter the interpreter path as written
 * @param args        the words after it
 */
public record Shebang(String interpreter, List<String> args) {
    private static final int MAX_LINE = 512;

    /** Reads the first line of a file; empty when it is not a shebang. */
    public static Optional<Shebang> read(Path file) throws IOException {
        byte[] head = new byte[MAX_LINE];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n < 3 || head[0] != '#' || head[1] != '!') {
            return Optional.empty();
        }
        int end = 2;
        while (end < n && head[end] != '\n') {
            end++;
        }
        return parse(new String(head, 2, end - 2, StandardCharsets.UTF_8));
    }

    /** Parses what follows {@code #!}. */
    public static Optional<Shebang> parse(String line) {
        String[] words = line.strip().split("[ \\t]+");
        if (words.length == 0 || words[0].isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Shebang(words[0], List.of(words).subList(1, words.length)));
    }

    /** {@code #!/usr/bin/env NAME ...}: the program name env would look up, skipping env's own options. */
    public Optional<Shebang> viaEnv() {
        if (!interpreter.equals("/usr/bin/env") && !interpreter.equals("/bin/env")) {
            return Optional.empty();
        }
        int i = 0;
        while (i < args.size() && args.get(i).startsWith("-")) {
            i++; // env -S, env -i and friends: the words after them are the command
        }
        if (i >= args.size()) {
            return Optional.empty();
        }
        return Optional.of(new Shebang(args.get(i), args.subList(i + 1, args.size())));
    }
}
