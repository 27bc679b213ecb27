package dev.kiln.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The sources of option values in precedence order (first wins), read as typed values. Each bad value is a
 * {@link ConfigException} naming the option, the source it came from and what is accepted.
 */
final class OptionSources {
    private final List<KilnConfig.Source> sources;
    private final Map<String, String> hostEnv;

    /** Keys a source has that are not options are an error naming the source. */
    OptionSources(List<KilnConfig.Source> sources, Map<String, String> hostEnv) {
        for (KilnConfig.Source s : sources) {
            for (String key : s.values().keySet()) {
                if (Option.byKey(key).isEmpty()) {
                    throw new ConfigException("unknown option '" + key + "' (from " + s.name()
                            + "); run with --help for the list of options");
                }
            }
        }
        this.sources = sources;
        this.hostEnv = hostEnv;
    }

    String raw(Option o) {
        for (KilnConfig.Source s : sources) {
            String v = s.values().get(o.key());
            if (v != null) {
                if (v.indexOf('\uFFFD') >= 0) {
                    // the JVM decodes its arguments and environment in the locale's encoding, before Kiln runs
                    throw new ConfigException("the value of " + o.key() + " (from " + s.name() + ") has bytes that "
                            + "Kiln's locale (" + System.getProperty("sun.jnu.encoding") + ") cannot read; fix: start "
                            + "Kiln with LANG=C.UTF-8, or put the value in the properties file (read as UTF-8)");
                }
                return v;
            }
        }
        return o.defaultValue();
    }

    String from(Option o) {
        for (KilnConfig.Source s : sources) {
            if (s.values().containsKey(o.key())) {
                return s.name();
            }
        }
        return "default";
    }

    Duration duration(Option o) {
        return Values.duration(o, from(o), raw(o));
    }

    long size(Option o) {
        return Values.size(o, from(o), raw(o));
    }

    boolean bool(Option o) {
        return Values.bool(o, from(o), raw(o));
    }

    /** A resource limit: the word {@code unlimited}, or what {@code value} parses. */
    long limit(Option o, LongSupplier value) {
        return raw(o).trim().equalsIgnoreCase("unlimited") ? KilnConfig.Limits.UNLIMITED : value.getAsLong();
    }

    int integer(Option o, int min, int max) {
        return Values.integer(o, from(o), raw(o), min, max);
    }

    /** One of an enum's words, case-insensitive. */
    <E extends Enum<E>> E choice(Option o, E[] choices, Function<E, String> word, String accepted) {
        String v = raw(o).trim().toLowerCase(Locale.ROOT);
        for (E e : choices) {
            if (word.apply(e).equals(v)) {
                return e;
            }
        }
        throw Values.bad(o, from(o), v, accepted);
    }

    String command(Option o) {
        String v = raw(o).trim();
        if (v.isEmpty()) {
            throw Values.bad(o, from(o), v, "a command name or path");
        }
        return v;
    }

    /** A folder; {@code ~} is the host's HOME. */
    Path folder(Option o) {
        return path(o, expandHome(raw(o)));
    }

    /** The cache folder: its default follows XDG_CACHE_HOME when that is set. */
    Path cache() {
        String v = raw(Option.CACHE);
        String xdg = hostEnv.get("XDG_CACHE_HOME");
        if (v.equals(Option.CACHE.defaultValue()) && xdg != null && xdg.startsWith("/")) {
            return path(Option.CACHE, xdg + "/kiln");
        }
        return path(Option.CACHE, expandHome(v));
    }

    /** Java names files in the locale's encoding: under LANG=C a path that is not ASCII cannot exist for it. */
    private Path path(Option o, String value) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw new ConfigException(o.key() + " " + value + " (from " + from(o) + ") cannot be named in Kiln's "
                    + "locale (" + System.getProperty("sun.jnu.encoding") + "); fix: start Kiln with LANG=C.UTF-8");
        }
    }

    private String expandHome(String v) {
        if (v.equals("~") || v.startsWith("~/")) {
            String home = hostEnv.getOrDefault("HOME", System.getProperty("user.home"));
            return home + v.substring(1);
        }
        return v;
    }

    /** Words separated by white space. */
    List<String> words(Option o) {
        String t = raw(o).trim();
        return t.isEmpty() ? List.of() : List.of(t.split("\\s+"));
    }

    /** Comma-separated names. */
    List<String> names(Option o) {
        List<String> out = new ArrayList<>();
        for (String n : raw(o).split(",")) {
            if (!n.isBlank()) {
                out.add(n.trim());
            }
        }
        return List.copyOf(out);
    }

    /** Comma-separated NAME=VALUE pairs. */
    Map<String, String> assignments(Option o) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String item : raw(o).split(",")) {
            if (item.isBlank()) {
                continue;
            }
            int eq = item.indexOf('=');
            String name = eq < 0 ? "" : item.substring(0, eq).trim();
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw Values.bad(o, from(o), item, "NAME=VALUE pairs separated by commas");
            }
            out.put(name, item.substring(eq + 1));
        }
        return Map.copyOf(out);
    }

    /** A case-insensitive regular expression, or null when empty. */
    Pattern pattern(Option o) {
        String v = raw(o).trim();
        if (v.isEmpty()) {
            return null;
        }
        try {
            return Pattern.compile(v, Pattern.CASE_INSENSITIVE);
        } catch (PatternSyntaxException e) {
            throw Values.bad(o, from(o), v, "a Java regular expression (" + e.getDescription() + ")");
        }
    }

    /** Comma-separated HTTP methods, upper-cased; {@code *} (all) is the empty set. */
    Set<String> methods(Option o) {
        Set<String> out = new LinkedHashSet<>();
        for (String m : raw(o).split(",")) {
            String t = m.trim().toUpperCase(Locale.ROOT);
            if (t.equals("*")) {
                return Set.of();
            }
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return Set.copyOf(out);
    }

    String logLevel(Option o) {
        String v = raw(o).trim().toUpperCase(Locale.ROOT);
        if (!List.of("ERROR", "WARN", "INFO", "DEBUG", "TRACE").contains(v)) {
            throw Values.bad(o, from(o), v, "ERROR, WARN, INFO, DEBUG or TRACE");
        }
        return v;
    }
}
