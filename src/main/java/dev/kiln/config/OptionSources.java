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
import java.util.Optional;
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

    /** A key {@code env.NAME} (properties file, init-param) gives one variable its value verbatim. */
    static final String ENV_KEY_PREFIX = "env.";
    private static final String NAME = "[A-Za-z_][A-Za-z0-9_]*";
    /** A comma in an {@code env} value starts a new assignment only where a NAME= follows it. */
    private static final Pattern NEXT_ASSIGNMENT = Pattern.compile(",(?=" + NAME + "=)");

    /** Keys a source has that are not options are an error naming the source. */
    OptionSources(List<KilnConfig.Source> sources, Map<String, String> hostEnv) {
        for (KilnConfig.Source s : sources) {
            for (String key : s.values().keySet()) {
                if (key.startsWith(ENV_KEY_PREFIX) && key.substring(ENV_KEY_PREFIX.length()).matches(NAME)) {
                    continue;
                }
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
                return readable(o.key(), v, s);
            }
        }
        return o.defaultValue();
    }

    private static String readable(String key, String v, KilnConfig.Source s) {
        if (v.indexOf('\uFFFD') >= 0) {
            // the JVM decodes its arguments and environment in the locale's encoding, before Kiln runs
            throw new ConfigException("the value of " + key + " (from " + s.name() + ") has bytes that "
                    + "Kiln's locale (" + System.getProperty("sun.jnu.encoding") + ") cannot read; fix: start "
                    + "Kiln with LANG=C.UTF-8, or put the value in the properties file (read as UTF-8)");
        }
        return v;
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

    /** Whether no source gives the option a value of its own. */
    boolean isDefault(Option o) {
        return raw(o).equals(o.defaultValue());
    }

    /** A folder; {@code ~} is the host's HOME. */
    Path folder(Option o) {
        return path(o, expandHome(raw(o)));
    }

    /** A folder, or empty when the option is empty. */
    Optional<Path> optionalFolder(Option o) {
        return raw(o).isBlank() ? Optional.empty() : Optional.of(folder(o));
    }

    /** A file, or null when the option is empty; {@code ~} is the host's HOME. */
    Path file(Option o) {
        String v = raw(o).trim();
        return v.isEmpty() ? null : path(o, expandHome(v));
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

    /** URL-PREFIX=FOLDER items (script-alias, static); a folder's {@code ~} is the host's HOME. */
    List<KilnConfig.Alias> aliases(Option o) {
        return Aliases.parse(o, from(o), raw(o), v -> path(o, expandHome(v)));
    }

    /** Comma-separated addresses and CIDR blocks. */
    List<AddressRange> addresses(Option o) {
        List<AddressRange> out = new ArrayList<>();
        for (String item : names(o)) {
            AddressRange range = AddressRange.parse(item);
            if (range == null) {
                throw Values.bad(o, from(o), item, "IP addresses or CIDR blocks separated by commas "
                        + "(for example 127.0.0.1,10.0.0.0/8,::1)");
            }
            out.add(range);
        }
        return List.copyOf(out);
    }

    /**
     * The variables every script is given, merged over the sources by name (a higher source wins for a name):
     * each source's {@code env} (NAME=VALUE items; a comma followed by NAME= starts the next; a repeated
     * {@code --env} gives one item each), then its {@code env.NAME} keys, taken verbatim.
     */
    Map<String, String> environment() {
        Map<String, String> out = new LinkedHashMap<>(assignments(Option.ENV.defaultValue(), "default"));
        for (int i = sources.size() - 1; i >= 0; i--) {
            KilnConfig.Source s = sources.get(i);
            String list = s.values().get(Option.ENV.key());
            if (list != null) {
                out.putAll(assignments(readable(Option.ENV.key(), list, s), s.name()));
            }
            s.values().forEach((key, value) -> {
                if (key.startsWith(ENV_KEY_PREFIX)) {
                    out.put(key.substring(ENV_KEY_PREFIX.length()), readable(key, value, s));
                }
            });
        }
        return Map.copyOf(out);
    }

    private static Map<String, String> assignments(String value, String source) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String given : value.split(Option.REPEATED_SEPARATOR)) {
            for (String item : NEXT_ASSIGNMENT.split(given)) {
                if (item.isBlank()) {
                    continue;
                }
                int eq = item.indexOf('=');
                String name = eq < 0 ? "" : item.substring(0, eq).trim();
                if (!name.matches(NAME)) {
                    throw Values.bad(Option.ENV, source, item, "NAME=VALUE (a comma followed by NAME= starts the "
                            + "next; for any other value use --env once per variable or env.NAME=VALUE in the file)");
                }
                out.put(name, item.substring(eq + 1));
            }
        }
        return out;
    }

    /** pass-env: a list replaces the default; items all written {@code +NAME} add to it instead. */
    List<String> passEnv() {
        List<String> given = names(Option.PASS_ENV);
        long adding = given.stream().filter(n -> n.startsWith("+")).count();
        if (adding == 0) {
            return given;
        }
        if (adding < given.size()) {
            throw Values.bad(Option.PASS_ENV, from(Option.PASS_ENV), raw(Option.PASS_ENV),
                    "either names (replacing the default list) or +NAME items (adding to it), not both");
        }
        List<String> out = new ArrayList<>(List.of(Option.PASS_ENV.defaultValue().split(",")));
        given.forEach(n -> out.add(n.substring(1)));
        return List.copyOf(out);
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
