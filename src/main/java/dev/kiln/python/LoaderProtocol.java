package dev.kiln.python;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.kiln.cache.CacheMode;
import dev.kiln.cache.CacheOp;
import dev.kiln.config.PycValidation;
import dev.kiln.forkserver.WarmCode;

/**
 * Everything Kiln and its Python files say to each other, in one place; {@code kiln_protocol.py} is the Python
 * twin and documents the same items. Kiln speaks first, in argument positions; the Python side answers in
 * marked stderr lines (the loader, while the script runs) or JSON lines on stdout (the precompiler).
 */
public final class LoaderProtocol {
    /** Starts each line Kiln's loader writes to the script's stderr; what follows is a {@link Message}. */
    public static final String MARKER = "\u001ekiln:";
    /**
     * The folder Kiln checked and started the script in (its real path): the loader requires its working folder
     * to be that one and reads the script by its name there (kiln_loader._Entered). Removed before the script.
     */
    public static final String FOLDER_VARIABLE = "KILN_FOLDER";


    private LoaderProtocol() {
    }

    /** A line of the loader's, after the marker. */
    public sealed interface Message {
        /** At exit: this run's bytecode counters. */
        record Stats(long compiled, long cached, long shipped, long compileMicros) implements Message {
        }

        /**
         * An OSError under the cache, once per (op, errno, dir) and process.
         *
         * @param op  what failed; {@link CacheOp#OTHER} for a word this Kiln does not know
         * @param dir the folder the fix applies to, or null when the line gave none
         */
        record CacheError(CacheOp op, String errno, Path path, Path dir) implements Message {
        }

        /** A module a fork-server's child read from the cache itself, for the fork-server to keep. */
        record Cold(WarmCode code) implements Message {
        }

        /** A line this version of Kiln does not know. */
        record Unknown(String line) implements Message {
        }
    }

    /**
     * {@code kiln_boot.py}'s arguments, after the interpreter and its flags:
     * {@code <boot> <rw|ro|off> <timestamp|checked-hash> <scripts-root> <script> [args...]}.
     */
    public static List<String> bootArgs(Path boot, CacheMode mode, PycValidation validation, Path scriptsRoot,
                                        Path script, List<String> args) {
        List<String> argv = new ArrayList<>(args.size() + 5);
        argv.add(boot.toString());
        argv.addAll(loaderArgs(mode, validation, scriptsRoot, script, args));
        return argv;
    }

    /**
     * What the loader is told after the boot file, on a classic command line or in a fork-server request:
     * {@code <rw|ro|off> <timestamp|checked-hash> <scripts-root> <script> [args...]}.
     */
    public static List<String> loaderArgs(CacheMode mode, PycValidation validation, Path scriptsRoot, Path script,
                                          List<String> args) {
        List<String> argv = new ArrayList<>(args.size() + 4);
        argv.add(mode.word());
        argv.add(validation.word());
        argv.add(scriptsRoot.toString());
        argv.add(script.toString());
        argv.addAll(args);
        return argv;
    }

    /**
     * {@code kiln_precompile.py}'s arguments, after the interpreter and its flags:
     * {@code <precompiler> <timestamp|checked-hash> <scripts-root> <entry-script>...}.
     */
    public static List<String> precompileArgs(Path precompiler, PycValidation validation, Path scriptsRoot,
                                              List<Path> scripts) {
        List<String> argv = new ArrayList<>(scripts.size() + 3);
        argv.add(precompiler.toString());
        argv.add(validation.word());
        argv.add(scriptsRoot.toString());
        scripts.forEach(p -> argv.add(p.toString()));
        return argv;
    }

    /**
     * Finds the marker in a stderr line. The loader writes its line at exit, possibly right after an
     * unterminated line of the script's, so the marker may come mid-line.
     *
     * @return where the marker starts, or -1
     */
    public static int markerAt(String line) {
        return line.indexOf(MARKER);
    }

    /**
     * Parses what follows the marker: {@code stats compiled=N cached=N shipped=N compile_us=N},
     * {@code cold pyc=P source=S} or {@code cache-error op=OP errno=NAME path=P dir=D}, values escaped as
     * {@link #fields} says.
     */
    public static Message parse(String message) {
        Map<String, String> f = fields(message);
        if (message.startsWith("stats ")) {
            return new Message.Stats(num(f.get("compiled")), num(f.get("cached")), num(f.get("shipped")),
                    num(f.get("compile_us")));
        }
        if (message.startsWith("cold ")) {
            Map<String, String> raw = fields(message, false);  // passed on as escaped
            Optional<WarmCode> code = WarmCode.of(raw.get("pyc"), raw.get("source"));
            if (code.isPresent()) {
                return new Message.Cold(code.get());
            }
        }
        if (message.startsWith("cache-error ") && f.containsKey("path")) {
            return new Message.CacheError(CacheOp.of(f.getOrDefault("op", "write")), f.getOrDefault("errno", "EIO"),
                    Path.of(f.get("path")), f.containsKey("dir") ? Path.of(f.get("dir")) : null);
        }
        return new Message.Unknown(message);
    }

    /** One of the precompiler's JSON lines on stdout. */
    public sealed interface PrecompileEvent {
        /** Starting on script {@code index} (from 1) of {@code total}. */
        record Script(Path path, int index, int total) implements PrecompileEvent {
        }

        /** {@code file:line: message}; line is null when the error has none. */
        record Error(String path, String line, String message) implements PrecompileEvent {
        }

        record Summary(int scripts, int compiled, int fresh, int errors) implements PrecompileEvent {
        }

        /** {@code compiled} events and anything newer: counted in the summary. */
        record Other(String event) implements PrecompileEvent {
        }
    }

    public static PrecompileEvent precompileEvent(String line) {
        Map<String, String> ev = PrecompileEvents.parse(line);
        String event = ev.getOrDefault("event", "");
        switch (event) {
            case "script":
                return new PrecompileEvent.Script(Path.of(ev.get("path")), (int) num(ev.get("index")),
                        (int) num(ev.get("total")));
            case "error":
                return new PrecompileEvent.Error(ev.get("path"), ev.get("line"), ev.get("message"));
            case "summary":
                return new PrecompileEvent.Summary((int) num(ev.get("scripts")), (int) num(ev.get("compiled")),
                        (int) num(ev.get("fresh")), (int) num(ev.get("errors")));
            default:
                return new PrecompileEvent.Other(event);
        }
    }

    /**
     * The {@code key=value} words after the kind. Each value is one word, bytes outside printable ASCII,
     * '%' and '=' written {@code %XX} by kiln_protocol's {@code _escape}; a word that is not {@code key=value}
     * is ignored.
     */
    private static Map<String, String> fields(String line) {
        return fields(line, true);
    }

    private static Map<String, String> fields(String line, boolean unescaped) {
        Map<String, String> out = new HashMap<>();
        String[] words = line.split(" ");
        for (int i = 1; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq > 0) {
                String value = words[i].substring(eq + 1);
                out.put(words[i].substring(0, eq), unescaped ? unescape(value) : value);
            }
        }
        return out;
    }

    private static String unescape(String word) {
        if (word.indexOf('%') < 0) {
            return word;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(word.length());
        for (int i = 0; i < word.length(); i++) {
            char c = word.charAt(i);
            int high = c == '%' && i + 2 < word.length() ? Character.digit(word.charAt(i + 1), 16) : -1;
            int low = high >= 0 ? Character.digit(word.charAt(i + 2), 16) : -1;
            if (low >= 0) {
                bytes.write(high << 4 | low);
                i += 2;
            } else {
                bytes.write(c);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static long num(String s) {
        try {
            return s == null ? 0 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
