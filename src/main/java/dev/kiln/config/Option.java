package dev.kiln.config;

import java.util.Locale;
import java.util.Optional;

/**
 * Every setting Kiln has, with its one name. The same name is the command-line flag ({@code --name}), the key in
 * {@code conf/kiln.properties}, the servlet init-param in a WAR, and (upper-cased, {@code -} as {@code _}) the
 * environment variable {@code KILN_NAME}. Precedence: flag &gt; environment &gt; file &gt; default.
 */
public enum Option {
    PORT("port", "N", "8080", "TCP port to listen on (0 picks a free one). Standalone only."),
    BIND("bind", "ADDR", "0.0.0.0", "Address to listen on. Standalone only."),
    TRUSTED_PROXIES("trusted-proxies", "ADDRS", "",
            "Reverse proxies (IP addresses, CIDR blocks) whose Forwarded/X-Forwarded-* headers give scripts the "
                    + "client's address, scheme, host and port; ignored from anyone else. Standalone only."),
    TLS_CERT("tls-cert", "FILE", "",
            "HTTPS certificate: a PEM chain (with tls-key) or a PKCS#12 keystore; empty serves no HTTPS. "
                    + "Standalone only."),
    TLS_KEY("tls-key", "FILE", "", "PEM private key (PKCS#8: BEGIN PRIVATE KEY) of a PEM tls-cert."),
    TLS_PASSWORD("tls-password", "SECRET", "", "Password of a PKCS#12 tls-cert (KILN_TLS_PASSWORD keeps it off ps)."),
    HTTPS_PORT("https-port", "N", "8443", "TCP port for HTTPS (HTTP/2 and HTTP/1.1) when tls-cert is set."),
    REDIRECT_TO_HTTPS("redirect-to-https", "BOOL", "false",
            "With tls-cert: the HTTP port answers every request with a redirect to the same URL over HTTPS."),
    SCRIPTS("scripts", "DIR", "webapp/WEB-INF/cgi-bin",
            "Folder of CGI scripts served at /cgi-bin/. In Tomcat: ${catalina.base}/kiln/CONTEXT/cgi-bin when it "
                    + "exists, else the webapp's WEB-INF/cgi-bin."),
    SCRIPT_ALIAS("script-alias", "PREFIX=DIR", "",
            "Another URL prefix whose files run as CGI scripts, from a folder of its own (repeatable; Apache's "
                    + "ScriptAlias); /cgi-bin/ stays the scripts folder's. In a WAR, map the prefix in web.xml too."),
    STATIC("static", "PREFIX=DIR", "",
            "A URL prefix served as static files from a folder (repeatable; Apache's Alias): content types, ranges, "
                    + "ETags; no listings, no hidden files, never a scripts folder. Standalone only."),
    CACHE("cache", "DIR", "~/.cache/kiln",
            "Shared bytecode cache folder (created 0700, or 2750 for the script group; root: /var/cache/kiln). "
                    + "In Tomcat: ${catalina.base}/kiln/CONTEXT/cache, which no redeploy empties."),
    CONFIG("config", "FILE", "conf/kiln.properties", "Properties file to read options from (when present)."),
    PYTHON("python", "CMD", "python3",
            "Interpreter for .py scripts without a shebang; resolved once at start to its real binary."),
    JAVA("java", "CMD", "java",
            "JDK for Java scripts (.java, or #! java --source N) whose shebang names none; resolved once at start."),
    JAVA_STARTUP_CACHE("java-startup-cache", "BOOL", "true",
            "Build each Java script a start-up cache (AOT cache, JDK 24+; CDS archive, 13-23) after its first run."),
    EXECUTABLE("executable", "CMD", "",
            "Interpreter (with arguments) for scripts that have no shebang and are not .py; empty refuses them (403)."),
    LIBRARY("library", "GLOBS", "", "Files under the scripts folder that scripts import, never run by URL "
            + "(comma-separated globs such as lib/**); .py files in a package folder always are."),
    SYMLINKS("symlinks", "RULE", "inside",
            "Symlinks in the scripts folder that are followed: inside (targets inside it), owner-match (also targets "
                    + "outside of the link's owner: Apache's SymLinksIfOwnerMatch) or follow (all: FollowSymLinks)."),
    DOCUMENT_ROOT("document-root", "DIR", "",
            "DOCUMENT_ROOT for scripts, onto which PATH_TRANSLATED maps PATH_INFO; empty: the scripts folder."),
    PASS_ENV("pass-env", "NAMES", "PATH,LANG,LC_ALL,TZ",
            "Variables passed from Kiln's own environment to scripts (* passes all; +NAME,... adds to the default)."),
    ENV("env", "NAME=VALUE", "",
            "A variable for every script (repeatable; also env.NAME=VALUE in the file); overrides passed ones."),
    ENV_HTTP_HEADERS("env-http-headers", "REGEX", "",
            "Only request headers whose names match pass as HTTP_* (Tomcat's envHttpHeaders); empty passes all."),
    PASS_AUTH("pass-auth", "BOOL", "false",
            "Pass the Authorization header as HTTP_AUTHORIZATION (Apache's CGIPassAuth)."),
    TIMEOUT("timeout", "DURATION", "5m", "Longest total run of one script; then its process group is killed."),
    IDLE_TIMEOUT("idle-timeout", "DURATION", "60s",
            "Longest time a script may go without writing output; then its process group is killed."),
    KILL_GRACE("kill-grace", "DURATION", "2s", "Time between SIGTERM and SIGKILL when a script is stopped."),
    SHUTDOWN_GRACE("shutdown-grace", "DURATION", "10s",
            "On SIGTERM, how long running scripts may finish before they are stopped; new requests are refused."),
    STDERR_TIMEOUT("stderr-timeout", "DURATION", "2s",
            "After a script exits, how long to wait for the rest of its stderr (Tomcat's stderrTimeout)."),
    RLIMIT_CPU("rlimit-cpu", "DURATION", "5m",
            "CPU time one script may use (Apache's RLimitCPU); then SIGXCPU, a second later SIGKILL. unlimited: none."),
    RLIMIT_MEM("rlimit-mem", "SIZE", "1g",
            "Data memory one script process may allocate (RLIMIT_DATA; Apache's RLimitMEM). unlimited: none."),
    RLIMIT_NPROC("rlimit-nproc", "N", "64",
            "Processes and threads one request may have (a cgroup pids limit; Apache's RLimitNPROC). unlimited: none."),
    RLIMIT_NOFILE("rlimit-nofile", "N", "1024", "Open files per script process (RLIMIT_NOFILE). unlimited: none."),
    RLIMIT_FSIZE("rlimit-fsize", "SIZE", "1g", "Largest file a script may write (RLIMIT_FSIZE). unlimited: none."),
    RLIMIT_CORE("rlimit-core", "SIZE", "0", "Largest core dump a script may leave (RLIMIT_CORE); 0 leaves none."),
    MAX_CONCURRENT("max-concurrent", "N", "auto", "Scripts running at once (auto: 4 per core, at least 8)."),
    MAX_QUEUED("max-queued", "N", "100", "Requests that may wait for a free slot; more get 503 at once."),
    QUEUE_TIMEOUT("queue-timeout", "DURATION", "10s", "Longest wait for a free slot before 503 with Retry-After."),
    MAX_BODY("max-body", "SIZE", "256m",
            "Largest request body accepted (413 above it); chunked bodies are spooled up to it."),
    BODY_TIMEOUT("body-timeout", "DURATION", "20s",
            "Longest wait for more of a request body, or for a client to take more of a response (Apache's "
                    + "RequestReadTimeout body=20); then the connection is closed. The stall limit is standalone "
                    + "only."),
    BODY_MIN_RATE("body-min-rate", "SIZE", "500",
            "Slowest request body accepted past body-timeout, bytes per second (Apache's MinRate=500): a client "
                    + "gets body-timeout plus a second per this many bytes; a slower upload is cut with 408."),
    MAX_UPLOADS("max-uploads", "N", "64",
            "Chunked uploads spooled at once; more get 503 at once, so stalled uploads cannot take every thread."),
    MAX_SPOOL("max-spool", "SIZE", "1g",
            "Disk that spooled chunked bodies and buffered responses may use together; past it uploads get 503 "
                    + "and scripts wait for their clients."),
    RESPONSE_BUFFER("response-buffer", "SIZE", "64k",
            "Script output held in memory per response before it spools to disk: a finished script frees its "
                    + "slot however slowly its client reads."),
    MAX_THREADS("max-threads", "N", "1000",
            "Request threads; a client stalled mid-response holds one for up to body-timeout, never a slot. "
                    + "Standalone only."),
    MAX_HEADER_SIZE("max-header-size", "SIZE", "64k", "Largest CGI header block a script may send (502 above it)."),
    MAX_STDERR_LINE("max-stderr-line", "SIZE", "4k", "Longest stderr line logged; longer lines are cut."),
    PYC_VALIDATION("pyc-validation", "MODE", "timestamp",
            "How cached bytecode is validated: timestamp (source mtime+size) or checked-hash (PEP 552)."),
    PRECOMPILE("precompile", "BOOL", "false", "Warm the cache in the background at start, so no request pays."),
    PRECOMPILE_STARTUP_CACHE("precompile-startup-cache", "BOOL", "false", "precompile (the command, or the "
            + "option) also builds Java scripts' start-up caches: one training run each, a GET as the script user, "
            + "output dropped."),
    RUN_MODE("run-mode", "MODE", "forkserver",
            "How Python scripts start: classic (a fresh interpreter each) or forkserver (forked from a warm one)."),
    EXEC_SERVER("exec-server", "BOOL", "true", "Start exec'd scripts (classic-mode Python, shell and "
            + "other scripts, Java) from a resident fork-server, as mod_cgid does (saves four execs per request); "
            + "false: from Kiln itself."),
    PRELOAD("preload", "MODULES", "os,sys,io,re,json,html,datetime,urllib.parse,http.cookies,email.message",
            "Modules a fork-server imports once (comma-separated); the scripts folder's own modules may be added."),
    CMD_LINE_ARGS("enable-cmd-line-arguments", "BOOL", "false",
            "Pass a query string without '=' as command-line words (RFC 3875 4.4); "
                    + "off as in Tomcat since CVE-2019-0232."),
    STATUS("status", "WHO", "local",
            "Who may read /kiln/, /kiln/status and /kiln/metrics: local (a loopback client that came through no "
                    + "proxy), all, or off."),
    STATUS_TOKEN("status-token", "SECRET", "",
            "Lets remote clients read the status pages and metrics: sent as Authorization: Bearer SECRET, or as "
                    + "the password of HTTP Basic (any user name). Empty: none."),
    LIST_SCRIPTS("list-scripts", "BOOL", "true", "List the scripts on / (only to clients that may read the status)."),
    TRUST_REQUEST_ID("trust-request-id", "BOOL", "false",
            "Reuse a client's X-Request-Id (1-64 of A-Z a-z 0-9 . _ -) instead of making a new one: for a proxy "
                    + "that sets it."),
    ACCESS_LOG("access-log", "BOOL", "true",
            "Log one line per request (NCSA format) under the logger kiln.access. Standalone only."),
    LOG_LEVEL("log-level", "LEVEL", "INFO", "Log level: ERROR, WARN, INFO, DEBUG or TRACE. Standalone only."),
    METHODS("methods", "LIST", "*", "HTTP methods scripts accept (comma-separated, * for all); others get 405."),
    SCRIPT_USER("script-user", "USER", "",
            "User scripts run as (Apache's User): empty is nobody when Kiln runs as root or may switch users, "
                    + "else Kiln's own user; root is refused."),
    SCRIPT_GROUP("script-group", "GROUP", "",
            "Group scripts run as, with no supplementary groups; empty takes the script user's own groups."),
    ALLOW_WRITABLE_SCRIPTS("allow-writable-scripts", "BOOL", "false",
            "Run scripts that users other than their owner may write, or that sit in such folders (suEXEC refuses)."),
    REQUIRE_EXEC("require-exec", "BOOL", "true",
            "Run only scripts with the execute bit for the user who runs them, as Apache does (else 500). "
                    + "In a WAR, which loses execute bits: false.");

    /** Joins the values of a repeated option ({@link #repeatable}) into one: no value can hold a NUL. */
    public static final String REPEATED_SEPARATOR = "\0";

    private final String key;
    private final String metavar;
    private final String defaultValue;
    private final String help;

    Option(String key, String metavar, String defaultValue, String help) {
        this.key = key;
        this.metavar = metavar;
        this.defaultValue = defaultValue;
        this.help = help;
    }

    /** The option's name: flag without dashes, properties key and init-param. */
    public String key() {
        return key;
    }

    public String flag() {
        return "--" + key;
    }

    public String envName() {
        return "KILN_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    public String metavar() {
        return metavar;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String help() {
        return help;
    }

    /** Whether giving the flag again adds a value rather than replacing it. */
    public boolean repeatable() {
        return this == ENV || this == SCRIPT_ALIAS || this == STATIC;
    }

    public static Optional<Option> byKey(String key) {
        for (Option o : values()) {
            if (o.key.equals(key)) {
                return Optional.of(o);
            }
        }
        return Optional.empty();
    }
}
