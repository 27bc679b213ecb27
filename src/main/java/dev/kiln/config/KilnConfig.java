package dev.kiln.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Kiln's settings, resolved and validated once at start, grouped by concern. Each component is named after its
 * {@link Option}, which says what it means.
 */
public record KilnConfig(
        Listen listen,
        Folders folders,
        Routes routes,
        Interpreters interpreters,
        Protocol protocol,
        Timeouts timeouts,
        Concurrency concurrency,
        Sizes sizes,
        Clients clients,
        Limits limits,
        Operations operations,
        Privileges privileges) {

    /**
     * Where the standalone server listens, and whom it believes about the client; in a WAR the container decides.
     *
     * @param trustedProxies peers whose forwarding headers are applied; empty trusts none
     * @param tls            HTTPS beside HTTP, when a certificate is configured
     */
    public record Listen(int port, String bind, List<AddressRange> trustedProxies, Optional<Tls> tls) {
    }

    /**
     * HTTPS: its certificate, port, and whether plain HTTP only redirects to it.
     *
     * @param key      the PEM private key; null when {@code cert} is a PKCS#12 keystore
     * @param password the PKCS#12 keystore's password
     */
    public record Tls(Path cert, Path key, String password, int httpsPort, boolean redirect) {
    }

    /**
     * The scripts served and the shared bytecode cache.
     *
     * @param documentRoot DOCUMENT_ROOT, onto which PATH_TRANSLATED maps PATH_INFO; empty: the scripts folder
     * @param library      globs (relative to the scripts folder) of files scripts import, never run by URL
     * @param symlinks     which symlinks in the scripts folder are followed
     * @param defaults     both are the defaults, not given: when the script user cannot reach them (root's home
     *                     is 0700), Kiln may serve from folders it prepares instead
     */
    public record Folders(Path scripts, Path cache, Optional<Path> documentRoot, List<String> library,
                          Symlinks symlinks, boolean defaults) {
    }

    /**
     * URL prefixes and the folders they serve; no prefix overlaps another, nor Kiln's own /kiln/.
     *
     * @param scriptAliases prefixes whose files run as CGI scripts: /cgi-bin for the scripts folder, then each
     *                      script-alias (Apache's ScriptAlias)
     * @param statics       prefixes served as static files (Apache's Alias); standalone only
     */
    public record Routes(List<Alias> scriptAliases, List<Alias> statics) {
    }

    /** One URL prefix (segments, no trailing slash: {@code /cgi-bin}) and the folder it serves. */
    public record Alias(String prefix, Path folder) {
        /** The servlet mapping of the prefix: itself and everything below it. */
        public String mapping() {
            return prefix + "/*";
        }
    }

    /**
     * What runs the scripts, and how Python runs them and keeps their bytecode.
     *
     * @param java             the JDK of Java scripts whose shebang names none
     * @param javaStartupCache build and use start-up caches of Java scripts
     * @param executable       interpreter command for scripts without shebang that are not .py; empty refuses them
     * @param precompile       warm the cache in the background at start
     * @param precompileStartupCache precompile also builds Java scripts' start-up caches, by a training run each
     * @param preload          modules each fork-server imports once, in order
     * @param execServer       exec'd scripts start from a resident fork-server ({@link dev.kiln.run.ExecServer})
     */
    public record Interpreters(String python, String java, boolean javaStartupCache, List<String> executable,
                               PycValidation pycValidation, boolean precompile, boolean precompileStartupCache,
                               RunMode runMode, List<String> preload, boolean execServer) {
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

    /**
     * How long a script may run and stay silent, how long it gets to stop, how long its stderr may linger, how
     * long running scripts may finish when Kiln stops.
     */
    public record Timeouts(Duration timeout, Duration idleTimeout, Duration killGrace, Duration stderrTimeout,
                           Duration shutdownGrace) {
    }

    /** How many scripts run at once, and how many requests may wait for a slot, for how long. */
    public record Concurrency(int maxConcurrent, int maxQueued, Duration queueTimeout) {
    }

    /** The largest request body, CGI header block and logged stderr line. */
    public record Sizes(long maxBody, int maxHeaderSize, int maxStderrLine) {
    }

    /**
     * What slow or hostile clients may take: time and rate limits on bodies and responses, the spool's bounds,
     * the memory that buffers each response, and request threads.
     *
     * @param bodyMinRate bytes per second, 0 for none
     */
    public record Clients(Duration bodyTimeout, long bodyMinRate, int maxUploads, long maxSpool,
                          int responseBuffer, int maxThreads) {
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

    /**
     * What operators get: the status pages and who may read them, the script listing, request ids, the access
     * log, the log level.
     *
     * @param statusToken the secret that lets remote clients read the status pages; empty for none
     */
    public record Operations(StatusAccess status, String statusToken, boolean listScripts, boolean trustRequestId,
                             boolean accessLog, String logLevel) {
    }

    /**
     * Who scripts run as, whether scripts others may write still run, and whether a script needs its execute bit;
     * empty names take the defaults.
     */
    public record Privileges(String scriptUser, String scriptGroup, boolean allowWritableScripts,
                             boolean requireExec) {
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
                new Listen(r.integer(Option.PORT, 0, 65535), r.raw(Option.BIND).trim(),
                        r.addresses(Option.TRUSTED_PROXIES), tls(r)),
                new Folders(r.folder(Option.SCRIPTS), r.cache(), r.optionalFolder(Option.DOCUMENT_ROOT),
                        r.names(Option.LIBRARY),
                        r.choice(Option.SYMLINKS, Symlinks.values(), Symlinks::word, "inside, owner-match or follow"),
                        r.isDefault(Option.SCRIPTS) && r.isDefault(Option.CACHE)),
                routes(r),
                new Interpreters(
                        r.command(Option.PYTHON),
                        r.command(Option.JAVA),
                        r.bool(Option.JAVA_STARTUP_CACHE),
                        r.words(Option.EXECUTABLE),
                        r.choice(Option.PYC_VALIDATION, PycValidation.values(), PycValidation::word,
                                "timestamp or checked-hash"),
                        r.bool(Option.PRECOMPILE),
                        r.bool(Option.PRECOMPILE_STARTUP_CACHE),
                        r.choice(Option.RUN_MODE, RunMode.values(), RunMode::word, "classic or forkserver"),
                        r.names(Option.PRELOAD),
                        r.bool(Option.EXEC_SERVER)),
                new Protocol(
                        r.passEnv(),
                        r.environment(),
                        r.pattern(Option.ENV_HTTP_HEADERS),
                        r.bool(Option.PASS_AUTH),
                        r.bool(Option.CMD_LINE_ARGS),
                        r.methods(Option.METHODS)),
                new Timeouts(
                        r.duration(Option.TIMEOUT),
                        r.duration(Option.IDLE_TIMEOUT),
                        r.duration(Option.KILL_GRACE),
                        r.duration(Option.STDERR_TIMEOUT),
                        r.duration(Option.SHUTDOWN_GRACE)),
                new Concurrency(
                        maxConcurrent(r),
                        r.integer(Option.MAX_QUEUED, 0, 1_000_000),
                        r.duration(Option.QUEUE_TIMEOUT)),
                new Sizes(
                        r.size(Option.MAX_BODY),
                        (int) Math.min(Integer.MAX_VALUE, r.size(Option.MAX_HEADER_SIZE)),
                        (int) Math.min(Integer.MAX_VALUE, Math.max(80, r.size(Option.MAX_STDERR_LINE)))),
                new Clients(
                        r.duration(Option.BODY_TIMEOUT),
                        r.size(Option.BODY_MIN_RATE),
                        r.integer(Option.MAX_UPLOADS, 1, 1_000_000),
                        r.size(Option.MAX_SPOOL),
                        (int) Math.min(1 << 30, r.size(Option.RESPONSE_BUFFER)),
                        r.integer(Option.MAX_THREADS, 16, 100_000)),
                new Limits(
                        r.limit(Option.RLIMIT_CPU, () -> Math.max(1, r.duration(Option.RLIMIT_CPU).toSeconds())),
                        r.limit(Option.RLIMIT_MEM, () -> r.size(Option.RLIMIT_MEM)),
                        r.limit(Option.RLIMIT_NPROC, () -> r.integer(Option.RLIMIT_NPROC, 1, 1_000_000)),
                        r.limit(Option.RLIMIT_NOFILE, () -> r.integer(Option.RLIMIT_NOFILE, 8, 1_048_576)),
                        r.limit(Option.RLIMIT_FSIZE, () -> r.size(Option.RLIMIT_FSIZE)),
                        r.limit(Option.RLIMIT_CORE, () -> r.size(Option.RLIMIT_CORE))),
                new Operations(
                        r.choice(Option.STATUS, StatusAccess.values(), StatusAccess::word, "local, all, off"),
                        r.raw(Option.STATUS_TOKEN).trim(),
                        r.bool(Option.LIST_SCRIPTS),
                        r.bool(Option.TRUST_REQUEST_ID),
                        r.bool(Option.ACCESS_LOG),
                        r.logLevel(Option.LOG_LEVEL)),
                new Privileges(r.raw(Option.SCRIPT_USER).trim(), r.raw(Option.SCRIPT_GROUP).trim(),
                        r.bool(Option.ALLOW_WRITABLE_SCRIPTS), r.bool(Option.REQUIRE_EXEC)));
    }

    /** One option's effective value and the source it came from ("default" when none set it). */
    public record Setting(Option option, String value, String source) {
    }

    /** Every option's raw value and its source, in the order of {@link Option}; unknown keys are an error. */
    public static List<Setting> explain(List<Source> sources, Map<String, String> hostEnv) {
        OptionSources r = new OptionSources(sources, hostEnv);
        return Arrays.stream(Option.values()).map(o -> new Setting(o, r.raw(o), r.from(o))).toList();
    }

    /** Where the scripts folder is served. */
    public static final String CGI_BIN = "/cgi-bin";

    /** The options a reload applies while Kiln runs; a change to any other needs a restart. */
    public static final Set<Option> RELOADABLE = Set.of(Option.TIMEOUT, Option.IDLE_TIMEOUT, Option.KILL_GRACE,
            Option.STDERR_TIMEOUT, Option.SHUTDOWN_GRACE, Option.MAX_CONCURRENT, Option.MAX_QUEUED,
            Option.QUEUE_TIMEOUT, Option.ENV, Option.PASS_ENV, Option.LOG_LEVEL);

    /** This configuration with the {@link #RELOADABLE} options of {@code next}. */
    public KilnConfig reloaded(KilnConfig next) {
        Protocol p = protocol;
        Operations o = operations;
        return new KilnConfig(listen, folders, routes, interpreters,
                new Protocol(next.protocol.passEnv, next.protocol.env, p.envHttpHeaders, p.passAuth,
                        p.cmdLineArguments, p.methods),
                next.timeouts, next.concurrency, sizes, clients, limits,
                new Operations(o.status, o.statusToken, o.listScripts, o.trustRequestId, o.accessLog,
                        next.operations.logLevel), privileges);
    }

    /** Defaults only: what an embedded test or a bare WAR starts from. */
    public static KilnConfig defaults(Map<String, String> hostEnv) {
        return resolve(List.of(), hostEnv);
    }

    private static Optional<Tls> tls(OptionSources r) {
        Path cert = r.file(Option.TLS_CERT);
        boolean redirect = r.bool(Option.REDIRECT_TO_HTTPS);
        if (cert == null) {
            if (redirect) {
                throw new ConfigException("redirect-to-https needs HTTPS to redirect to; fix: set tls-cert too");
            }
            return Optional.empty();
        }
        return Optional.of(new Tls(cert, r.file(Option.TLS_KEY), r.raw(Option.TLS_PASSWORD),
                r.integer(Option.HTTPS_PORT, 0, 65535), redirect));
    }

    private static Routes routes(OptionSources r) {
        List<Alias> scriptAliases = new ArrayList<>(List.of(new Alias(CGI_BIN, r.folder(Option.SCRIPTS))));
        scriptAliases.addAll(r.aliases(Option.SCRIPT_ALIAS));
        List<Alias> statics = r.aliases(Option.STATIC);
        Aliases.checkPrefixes(scriptAliases, statics);
        return new Routes(List.copyOf(scriptAliases), statics);
    }

    private static int maxConcurrent(OptionSources r) {
        if (r.raw(Option.MAX_CONCURRENT).equalsIgnoreCase("auto")) {
            return Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
        }
        return r.integer(Option.MAX_CONCURRENT, 1, 100_000);
    }
}
