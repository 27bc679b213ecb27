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
    SCRIPTS("scripts", "DIR", "webapp/WEB-INF/cgi-bin",
            "Folder of CGI scripts served at /cgi-bin/. In a WAR: WEB-INF/cgi-bin of the unpacked webapp."),
    CACHE("cache", "DIR", "~/.cache/kiln",
            "Shared bytecode cache folder (created 0700). In a WAR: the context's temporary folder."),
    CONFIG("config", "FILE", "conf/kiln.properties", "Properties file to read options from (when present)."),
    PYTHON("python", "CMD", "python3",
            "Interpreter for .py scripts without a shebang; resolved once at start to its real binary."),
    EXECUTABLE("executable", "CMD", "",
            "Interpreter (with arguments) for scripts that have no shebang and are not .py; empty refuses them (403)."),
    PASS_ENV("pass-env", "NAMES", "PATH,LANG,LC_ALL,TZ",
            "Comma-separated variables passed from Kiln's own environment to scripts (* passes all)."),
    ENV("env", "NAME=VALUE,...", "", "Extra variables given to every script (override passed ones)."),
    ENV_HTTP_HEADERS("env-http-headers", "REGEX", "",
            "Only request headers whose names match pass as HTTP_* (Tomcat's envHttpHeaders); empty passes all."),
    PASS_AUTH("pass-auth", "BOOL", "false",
            "Pass the Authorization header as HTTP_AUTHORIZATION (Apache's CGIPassAuth)."),
    TIMEOUT("timeout", "DURATION", "5m", "Longest total run of one script; then its process group is killed."),
    IDLE_TIMEOUT("idle-timeout", "DURATION", "60s",
            "Longest time a script may go without writing output; then its process group is killed."),
    KILL_GRACE("kill-grace", "DURATION", "2s", "Time between SIGTERM and SIGKILL when a script is stopped."),
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
    MAX_HEADER_SIZE("max-header-size", "SIZE", "64k", "Largest CGI header block a script may send (502 above it)."),
    MAX_STDERR_LINE("max-stderr-line", "SIZE", "4k", "Longest stderr line logged; longer lines are cut."),
    PYC_VALIDATION("pyc-validation", "MODE", "timestamp",
            "How cached bytecode is validated: timestamp (source mtime+size) or checked-hash (PEP 552)."),
    PRECOMPILE("precompile", "BOOL", "false", "Warm the cache in the background at start, so no request pays."),
    RUN_MODE("run-mode", "MODE", "forkserver",
            "How Python scripts start: classic (a fresh interpreter each) or forkserver (forked from a warm one)."),
    PRELOAD("preload", "MODULES", "os,sys,io,re,json,html,datetime,urllib.parse,http.cookies,email.message",
            "Modules a fork-server imports once (comma-separated); the scripts folder's own modules may be added."),
    CMD_LINE_ARGS("enable-cmd-line-arguments", "BOOL", "false",
            "Pass a query string without '=' as command-line words (RFC 3875 4.4); "
                    + "off as in Tomcat since CVE-2019-0232."),
    STATUS("status", "WHO", "local",
            "Who may read /kiln/status (it shows folders and scripts): local (loopback clients), all, or off."),
    ACCESS_LOG("access-log", "BOOL", "true",
            "Log one line per request (NCSA format) under the logger kiln.access. Standalone only."),
    LOG_LEVEL("log-level", "LEVEL", "INFO", "Log level: ERROR, WARN, INFO, DEBUG or TRACE. Standalone only."),
    METHODS("methods", "LIST", "*", "HTTP methods scripts accept (comma-separated, * for all); others get 405.");

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

    public static Optional<Option> byKey(String key) {
        for (Option o : values()) {
            if (o.key.equals(key)) {
                return Optional.of(o);
            }
        }
        return Optional.empty();
    }
}
