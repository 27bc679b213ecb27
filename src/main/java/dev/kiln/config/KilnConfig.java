package dev.kiln.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Kiln's settings, resolved and validated once at start, grouped by concern. Each component is named after its
 * {@link Option}, which says what it means.
 */
public record KilnConfig(
        Listen listen,
        Folders folders,
        Interpreters interpreters,
        Protocol protocol,
        Timeouts timeouts,
        Concurrency concurrency,
        Sizes sizes,
        Limits limits,
        Operations operations) {

    /** Where the standalone server listens; in a WAR the container decides. */
    public record Listen(int port, String bind) {
    }

    /** The scripts served and the shared bytecode cache. */
    public record Folders(Path scripts, Path cache) {
    }

    /**
     * What runs the scripts, and how Python runs them and keeps their bytecode.
     *
     * @param executable interpreter command for scripts without shebang that are not .py; empty refuses them
     * @param precompile warm the cache in the background at start
     * @param preload    modules each fork-server imports once, in order
     */
    public record Interpreters(String python, List<String> executable, PycValidation pycValidation,
                               boolean precompile, RunMode runMode, List<String> preload) {
    }

    /**
     * What a script is given of the request and of Kiln's environment (RFC 3875).
     *
     * @param passEnv        names passed from Kiln's environment; {@code ["*"]} passes all of it
     * @param envHttpHeaders when non-null, only headers whose names match become HTTP_* variables
     * @param methods        allowed methods, upper-case; empty allows all
     */
    public record Protocol(List<String> passEnv, Map<String, String> env, Pattern envHttpHeaders, boolean passAuth,
                           boolean cmdLineArguments, Set<String> methods) {
    }

    /** How long a script may run and stay silent, how long it gets to stop, how long its stderr may linger. */
    public record Timeouts(Duration timeout, Duration idleTimeout, Duration killGrace, Duration stderrTimeout) {
    }

    /** How many scripts run at once, and how many requests may wait for a slot, for how long. */
    public record Concurrency(int maxConcurrent, int maxQueued, Duration queueTimeout) {
    }

    /** The largest request body, CGI header block and logged stderr line. */
    public record Sizes(long maxBody, int maxHeaderSize, int maxStderrLine) {
    }

    /**
     * The resource limits of every script; {@link #UNLIMITED} for none.
     *
     * @param cpuSeconds CPU time in whole seconds
     */
    public record Limits(long cpuSeconds, long memory, long processes, long openFiles, long fileSize,
                         long coreSize) {
        public static final long UNLIMITED = -1;
    }

    /** What operators get: the status page, the access log, the log level. */
    public record Operations(StatusAccess status, boolean accessLog, String logLevel) {
    }

    /** Where one option's value came from, for error messages. */
    public record Source(String name, Map<String, String> values) {
    }

    /**
     * Resolves every option from the sources, first source wins (pass them flag, environment, file order).
     * Keys a source has that are not options are an error naming the source.
     */
    public static KilnConfig resolve(List<Source> sources, Map<String, String> hostEnv) {
        OptionSources r = new OptionSources(sources, hostEnv);
        return new KilnConfig(
                new Listen(r.integer(Option.PORT, 0, 65535), r.raw(Option.BIND).trim()),
                new Folders(r.folder(Option.SCRIPTS), r.cache()),
                new Interpreters(
                        r.command(Option.PYTHON),
                        r.words(Option.EXECUTABLE),
                        r.choice(Option.PYC_VALIDATION, PycValidation.values(), PycValidation::word,
                                "timestamp or checked-hash"),
                        r.bool(Option.PRECOMPILE),
                        r.choice(Option.RUN_MODE, RunMode.values(), RunMode::word, "classic or forkserver"),
                        r.names(Option.PRELOAD)),
                new Protocol(
                        r.names(Option.PASS_ENV),
                        r.assignments(Option.ENV),
                        r.pattern(Option.ENV_HTTP_HEADERS),
                        r.bool(Option.PASS_AUTH),
                        r.bool(Option.CMD_LINE_ARGS),
                        r.methods(Option.METHODS)),
                new Timeouts(
                        r.duration(Option.TIMEOUT),
                        r.duration(Option.IDLE_TIMEOUT),
                        r.duration(Option.KILL_GRACE),
                        r.duration(Option.STDERR_TIMEOUT)),
                new Concurrency(
                        maxConcurrent(r),
                        r.integer(Option.MAX_QUEUED, 0, 1_000_000),
                        r.duration(Option.QUEUE_TIMEOUT)),
                new Sizes(
                        r.size(Option.MAX_BODY),
                        (int) Math.min(Integer.MAX_VALUE, r.size(Option.MAX_HEADER_SIZE)),
                        (int) Math.min(Integer.MAX_VALUE, Math.max(80, r.size(Option.MAX_STDERR_LINE)))),
                new Limits(
                        r.limit(Option.RLIMIT_CPU, () -> Math.max(1, r.duration(Option.RLIMIT_CPU).toSeconds())),
                        r.limit(Option.RLIMIT_MEM, () -> r.size(Option.RLIMIT_MEM)),
                        r.limit(Option.RLIMIT_NPROC, () -> r.integer(Option.RLIMIT_NPROC, 1, 1_000_000)),
                        r.limit(Option.RLIMIT_NOFILE, () -> r.integer(Option.RLIMIT_NOFILE, 8, 1_048_576)),
                        r.limit(Option.RLIMIT_FSIZE, () -> r.size(Option.RLIMIT_FSIZE)),
                        r.limit(Option.RLIMIT_CORE, () -> r.size(Option.RLIMIT_CORE))),
                new Operations(
                        r.choice(Option.STATUS, StatusAccess.values(), StatusAccess::word, "local, all, off"),
                        r.bool(Option.ACCESS_LOG),
                        r.logLevel(Option.LOG_LEVEL)));
    }

    /** Defaults only: what an embedded test or a bare WAR starts from. */
    public static KilnConfig defaults(Map<String, String> hostEnv) {
        return resolve(List.of(), hostEnv);
    }

    private static int maxConcurrent(OptionSources r) {
        if (r.raw(Option.MAX_CONCURRENT).equalsIgnoreCase("auto")) {
            return Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
        }
        return r.integer(Option.MAX_CONCURRENT, 1, 100_000);
    }
}
