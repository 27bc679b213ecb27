package dev.kiln.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Kiln's settings, resolved and validated once at start. See {@link Option} for what each one means.
 *
 * @param executable     interpreter command for scripts without shebang that are not .py; empty refuses them
 * @param passEnv        names passed from Kiln's environment; {@code ["*"]} passes all of it
 * @param envHttpHeaders when non-null, only headers whose names match become HTTP_* variables
 * @param methods        allowed methods, upper-case; empty allows all
 */
public record KilnConfig(
        int port,
        String bind,
        Path scripts,
        Path cache,
        String python,
        List<String> executable,
        List<String> passEnv,
        Map<String, String> env,
        Pattern envHttpHeaders,
        boolean passAuth,
        Duration timeout,
        Duration idleTimeout,
        Duration killGrace,
        Duration stderrTimeout,
        int maxConcurrent,
        int maxQueued,
        Duration queueTimeout,
        long maxBody,
        int maxHeaderSize,
        int maxStderrLine,
        PycValidation pycValidation,
        boolean precompile,
        boolean cmdLineArguments,
        Set<String> methods,
        String status,
        boolean accessLog,
        String logLevel) {

    /** Where one option's value came from, for error messages. */
    public record Source(String name, Map<String, String> values) {
    }

    /**
     * Resolves every option from the sources, first source wins (pass them flag, environment, file order).
     * Keys a source has that are not options are an error naming the source.
     */
    public static KilnConfig resolve(List<Source> sources, Map<String, String> hostEnv) {
        for (Source s : sources) {
            for (String key : s.values().keySet()) {
                if (Option.byKey(key).isEmpty()) {
                    throw new ConfigException("unknown option '" + key + "' (from " + s.name()
                            + "); run with --help for the list of options");
                }
            }
        }
        Resolver r = new Resolver(sources);
        int cores = Runtime.getRuntime().availableProcessors();
        String maxConc = r.raw(Option.MAX_CONCURRENT);
        int maxConcurrent = maxConc.equalsIgnoreCase("auto")
                ? Math.max(8, 4 * cores)
                : Values.integer(Option.MAX_CONCURRENT, r.from(Option.MAX_CONCURRENT), maxConc, 1, 100_000);
        return new KilnConfig(
                Values.integer(Option.PORT, r.from(Option.PORT), r.raw(Option.PORT), 0, 65535),
                r.raw(Option.BIND).trim(),
                Path.of(expandHome(r.raw(Option.SCRIPTS), hostEnv)),
                Path.of(cacheDefault(r, hostEnv)),
                nonEmpty(r, Option.PYTHON),
                words(r.raw(Option.EXECUTABLE)),
                names(r.raw(Option.PASS_ENV)),
                assignments(r),
                regex(r),
                r.bool(Option.PASS_AUTH),
                r.duration(Option.TIMEOUT),
                r.duration(Option.IDLE_TIMEOUT),
                r.duration(Option.KILL_GRACE),
                r.duration(Option.STDERR_TIMEOUT),
                maxConcurrent,
                Values.integer(Option.MAX_QUEUED, r.from(Option.MAX_QUEUED), r.raw(Option.MAX_QUEUED), 0, 1_000_000),
                r.duration(Option.QUEUE_TIMEOUT),
                r.size(Option.MAX_BODY),
                (int) Math.min(Integer.MAX_VALUE, r.size(Option.MAX_HEADER_SIZE)),
                (int) Math.min(Integer.MAX_VALUE, Math.max(80, r.size(Option.MAX_STDERR_LINE))),
                validation(r),
                r.bool(Option.PRECOMPILE),
                r.bool(Option.CMD_LINE_ARGS),
                methods(r.raw(Option.METHODS)),
                oneOf(r, Option.STATUS, List.of("local", "all", "off")),
                r.bool(Option.ACCESS_LOG),
                logLevel(r));
    }

    /** Defaults only: what an embedded test or a bare WAR starts from. */
    public static KilnConfig defaults(Map<String, String> hostEnv) {
        return resolve(List.of(), hostEnv);
    }

    private static final class Resolver {
        private final List<Source> sources;

        Resolver(List<Source> sources) {
            this.sources = sources;
        }

        String raw(Option o) {
            for (Source s : sources) {
                String v = s.values().get(o.key());
                if (v != null) {
                    return v;
                }
            }
            return o.defaultValue();
        }

        String from(Option o) {
            for (Source s : sources) {
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
    }

    private static String nonEmpty(Resolver r, Option o) {
        String v = r.raw(o).trim();
        if (v.isEmpty()) {
            throw Values.bad(o, r.from(o), v, "a command name or path");
        }
        return v;
    }

    private static String cacheDefault(Resolver r, Map<String, String> hostEnv) {
        String v = r.raw(Option.CACHE);
        if (!v.equals(Option.CACHE.defaultValue())) {
            return expandHome(v, hostEnv);
        }
        String xdg = hostEnv.get("XDG_CACHE_HOME");
        if (xdg != null && xdg.startsWith("/")) {
            return xdg + "/kiln";
        }
        return expandHome(v, hostEnv);
    }

    private static String expandHome(String v, Map<String, String> hostEnv) {
        if (v.equals("~") || v.startsWith("~/")) {
            String home = hostEnv.getOrDefault("HOME", System.getProperty("user.home"));
            return home + v.substring(1);
        }
        return v;
    }

    private static List<String> words(String raw) {
        String t = raw.trim();
        return t.isEmpty() ? List.of() : List.of(t.split("\\s+"));
    }

    private static List<String> names(String raw) {
        List<String> out = new ArrayList<>();
        for (String n : raw.split(",")) {
            if (!n.isBlank()) {
                out.add(n.trim());
            }
        }
        return List.copyOf(out);
    }

    private static Map<String, String> assignments(Resolver r) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String item : r.raw(Option.ENV).split(",")) {
            if (item.isBlank()) {
                continue;
            }
            int eq = item.indexOf('=');
            String name = eq < 0 ? "" : item.substring(0, eq).trim();
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw Values.bad(Option.ENV, r.from(Option.ENV), item, "NAME=VALUE pairs separated by commas");
            }
            out.put(name, item.substring(eq + 1));
        }
        return Map.copyOf(out);
    }

    private static Pattern regex(Resolver r) {
        String v = r.raw(Option.ENV_HTTP_HEADERS).trim();
        if (v.isEmpty()) {
            return null;
        }
        try {
            return Pattern.compile(v, Pattern.CASE_INSENSITIVE);
        } catch (PatternSyntaxException e) {
            throw Values.bad(Option.ENV_HTTP_HEADERS, r.from(Option.ENV_HTTP_HEADERS), v,
                    "a Java regular expression (" + e.getDescription() + ")");
        }
    }

    private static PycValidation validation(Resolver r) {
        String v = r.raw(Option.PYC_VALIDATION).trim().toLowerCase(Locale.ROOT);
        for (PycValidation p : PycValidation.values()) {
            if (p.word().equals(v)) {
                return p;
            }
        }
        throw Values.bad(Option.PYC_VALIDATION, r.from(Option.PYC_VALIDATION), v, "timestamp or checked-hash");
    }

    private static String oneOf(Resolver r, Option o, List<String> accepted) {
        String v = r.raw(o).trim().toLowerCase(Locale.ROOT);
        if (!accepted.contains(v)) {
            throw Values.bad(o, r.from(o), v, String.join(", ", accepted));
        }
        return v;
    }

    private static String logLevel(Resolver r) {
        String v = r.raw(Option.LOG_LEVEL).trim().toUpperCase(Locale.ROOT);
        if (!List.of("ERROR", "WARN", "INFO", "DEBUG", "TRACE").contains(v)) {
            throw Values.bad(Option.LOG_LEVEL, r.from(Option.LOG_LEVEL), v, "ERROR, WARN, INFO, DEBUG or TRACE");
        }
        return v;
    }

    private static Set<String> methods(String raw) {
        Set<String> out = new LinkedHashSet<>();
        for (String m : raw.split(",")) {
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
}
