package dev.kiln;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.CacheMode;
import dev.kiln.cache.CachePruner;
import dev.kiln.cache.ProcessUser;
import dev.kiln.cache.ScriptStatistics;
import dev.kiln.cgi.BodyPace;
import dev.kiln.cgi.CgiEnvironment;
import dev.kiln.cgi.CgiHost;
import dev.kiln.cgi.CommandPlanner;
import dev.kiln.cgi.LibraryFiles;
import dev.kiln.cgi.Route;
import dev.kiln.cgi.ScriptFolders;
import dev.kiln.cgi.ScriptResolver;
import dev.kiln.cgi.Spool;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.RunMode;
import dev.kiln.jvm.JavaScripts;
import dev.kiln.metrics.KilnMetrics;
import dev.kiln.python.ExecForkServer;
import dev.kiln.python.ForkServerLauncher;
import dev.kiln.python.ForkServers;
import dev.kiln.python.InterpreterRegistry;
import dev.kiln.python.Precompiler;
import dev.kiln.python.PythonInterpreter;
import dev.kiln.python.PythonLauncher;
import dev.kiln.python.PythonRuntime;
import dev.kiln.python.PythonScripts;
import dev.kiln.python.RuntimeFiles;
import dev.kiln.python.TrustedCompiles;
import dev.kiln.run.ExecLauncher;
import dev.kiln.run.ExecServer;
import dev.kiln.run.Launcher;
import dev.kiln.run.RunLimiter;
import dev.kiln.run.RunSettings;
import dev.kiln.run.ScriptLimits;
import dev.kiln.run.ScriptRunner;
import dev.kiln.run.ScriptUser;

/**
 * One assembled Kiln: configuration, scripts folder, interpreters, cache and the CGI host, shared by the
 * standalone server and the WAR. Built once at start; {@link #close()} stops every script and helper.
 */
public final class Kiln implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln");
    public static final String VERSION = Objects.requireNonNullElse(Kiln.class.getPackage()
            .getImplementationVersion(), "0.1.0");

    private volatile KilnConfig config;
    private final Map<String, String> hostEnv;
    private final Map<String, String> scriptEnv;
    private final InterpreterRegistry interpreters;
    private final BytecodeCache cache;
    private final ScriptStatistics statistics = new ScriptStatistics();
    private final RuntimeFiles runtime;
    private final ScriptRunner runner;
    private final PythonScripts python;
    private final JavaScripts java;
    private final ForkServers forkServers;
    private final TrustedCompiles compiles;
    private final List<Path> namedInterpreters;
    private final ScriptFolders folders;
    private final CgiHost host;
    private final KilnMetrics metrics;
    private volatile boolean stopping;

    /**
     * @param hostEnv Kiln's own environment, the source of pass-through variables
     * @param tmpDir  where request bodies and response buffers are spooled
     */
    public Kiln(KilnConfig config, Map<String, String> hostEnv, Path tmpDir) throws IOException {
        this.config = config;
        this.hostEnv = Map.copyOf(hostEnv);
        KilnConfig.Interpreters interp = config.interpreters();
        KilnConfig.Protocol protocol = config.protocol();
        KilnConfig.Timeouts timeouts = config.timeouts();
        KilnConfig.Concurrency concurrency = config.concurrency();
        KilnConfig.Privileges privileges = config.privileges();
        ScriptUser user = Separation.decide(privileges.scriptUser(), privileges.scriptGroup(), ProcessUser.current());
        this.cache = new BytecodeCache(Separation.cacheFolder(config.folders(), user),
                user.switches() ? user.gid() : -1);
        Path scripts = Separation.scriptsFolder(config.folders(), user, cache.root().resolve("examples"));
        this.folders = ScriptsFolder.folders(scripts, config.routes().scriptAliases());
        this.scriptEnv = ScriptEnvironment.of(protocol, hostEnv);
        this.interpreters = new InterpreterRegistry(scriptEnv);
        this.runtime = new RuntimeFiles(cache);
        KilnConfig.Limits limits = config.limits();
        Map<String, String> kilnEnv = user.kilnSide(scriptEnv);
        ForkServers.Basis basis = new ForkServers.Basis(cache, runtime, interp.pycValidation(), folders.primary());
        this.forkServers = new ForkServers(key -> ForkServers.spec(key, basis, kilnEnv, interp.preload()));
        this.runner = new ScriptRunner(new RunSettings(timeouts.timeout(), timeouts.idleTimeout(),
                timeouts.killGrace(), timeouts.stderrTimeout(), config.sizes().maxStderrLine(),
                new ScriptLimits(limits.cpuSeconds(), limits.memory(), limits.processes(), limits.openFiles(),
                        limits.fileSize(), limits.coreSize())), user, !interp.execServer() ? ExecServer.NONE
                : new ExecForkServer(forkServers, () -> interpreters.lookup(interp.python())
                        .map(PythonInterpreter::executable)));
        this.compiles = new TrustedCompiles(script -> precompiler(folders.of(script).root()), user.switches());
        PythonLauncher.Setup setup = new PythonLauncher.Setup(runner, cache, statistics, runtime,
                interp.pycValidation(), folders, compiles);
        Map<String, String> forkEnv = ForkServers.startEnvironment(kilnEnv, cache.prefix(), CacheMode.RW);
        boolean fork = interp.runMode() == RunMode.FORKSERVER;
        this.python = new PythonScripts(interpreters, interp.python(), py -> fork
                ? new ForkServerLauncher(new PythonLauncher(py, setup), setup, forkServers, forkEnv)
                : new PythonLauncher(py, setup));
        this.java = new JavaScripts(runner, cache, scriptEnv, interp.java(), interp.javaStartupCache(),
                folders, timeouts.timeout());
        Launcher exec = new ExecLauncher(runner, () -> PythonLauncher.plainEnvironment(cache));
        List<Route> routes = new ArrayList<>();
        ScriptResolver.Symlinks symlinks = ScriptResolver.Symlinks.valueOf(config.folders().symlinks().name());
        CommandPlanner.FileRules rules = new CommandPlanner.FileRules(privileges.allowWritableScripts(), user,
                privileges.requireExec());
        for (ScriptFolders.Folder f : folders.folders()) {
            routes.add(new Route(f.prefix(), new ScriptResolver(f.root(), symlinks), new CommandPlanner(
                    new LibraryFiles(f.root(), config.folders().library()), List.of(python, java), exec,
                    interp.executable(), protocol.cmdLineArguments(), rules)));
        }
        this.host = new CgiHost(new CgiHost.Settings(
                routes,
                new RunLimiter(concurrency.maxConcurrent(), concurrency.maxQueued(), concurrency.queueTimeout()),
                new CgiEnvironment(scriptEnv, config.folders().documentRoot().map(d -> d.toAbsolutePath().normalize())
                        .orElse(folders.primary()).toString(), protocol.passAuth(),
                        protocol.envHttpHeaders(), "Kiln/" + VERSION),
                new Spool(Separation.spool(tmpDir.resolve("kiln-bodies-" + ProcessUser.current().uid())),
                        config.clients().maxSpool(), config.clients().maxUploads()),
                config.clients().responseBuffer(),
                new BodyPace(config.clients().bodyTimeout(), config.clients().bodyMinRate()),
                config.sizes().maxBody(), config.sizes().maxHeaderSize(),
                protocol.methods()));
        this.metrics = new KilnMetrics(KilnMeters.of(statistics, cache, host.settings().limiter(), runner,
                forkServers));
        this.namedInterpreters = ShebangInterpreters.discover(folders.roots(), interpreters,
                config.interpreters().python());
    }

    /**
     * What a server checks before it serves (sub-commands run no scripts): the script user reaches the scripts
     * folder, the cache and the interpreters scripts run with, or Kiln stops with the fix.
     */
    public void checkScriptUser() {
        // an unusable cache is not fatal: scripts run uncached, and the cache's diagnostics say why
        List<Path> reached = new ArrayList<>(folders.roots());
        if (cache.mode() != CacheMode.OFF) {
            reached.addAll(List.of(cache.root(), runtime.current().dir()));
        }
        Separation.checkReachable(runner.user(), reached, Separation.configuredInterpreters(interpreters,
                config.interpreters()), namedInterpreters);
    }

    /** What a server does once at start: prune the cache, and warm it when the precompile option says so. */
    public void startServing() {
        prune();
        java.prune();
        if (config.interpreters().precompile()) {
            precompileInBackground();
        }
    }

    /** Removes bytecode of gone sources and of interpreters that are gone; logs what it removed. */
    public CachePruner.Result prune() {
        return CacheUpkeep.prune(cache, interpreters);
    }

    /** The precompiler of the scripts folder (what the precompile option and sub-command warm). */
    public Precompiler precompiler() {
        return precompiler(folders.primary());
    }

    private Precompiler precompiler(Path root) {
        return new Precompiler(python, runtime, cache, config.interpreters().pycValidation(), root,
                runner.user().kilnSide(scriptEnv));
    }

    /** Warms the cache on a background thread (option precompile), so not even the first request pays. */
    public void precompileInBackground() {
        CacheUpkeep.precompileInBackground(this);
    }

    /** The startup summary: where scripts and cache are, and each interpreter found. */
    public void logStartup(String url) {
        StartupLog.log(this, url);
    }

    public JavaScripts java() {
        return java;
    }

    public KilnConfig config() {
        return config;
    }

    /**
     * Applies what a reload may change while Kiln runs ({@link KilnConfig#RELOADABLE}): timeouts and limits for
     * scripts started from now on, and their environment. The rest of {@code next} waits for a restart.
     */
    public void reload(KilnConfig next) {
        KilnConfig.Timeouts t = next.timeouts();
        runner.update(new RunSettings(t.timeout(), t.idleTimeout(), t.killGrace(), t.stderrTimeout(),
                config.sizes().maxStderrLine(), runner.settings().limits()));
        KilnConfig.Concurrency c = next.concurrency();
        host.settings().limiter().resize(c.maxConcurrent(), c.maxQueued(), c.queueTimeout());
        host.settings().environment().rebase(CgiEnvironment.base(next.protocol().passEnv(), next.protocol().env(),
                hostEnv));
        config = config.reloaded(next);
    }

    /** The folders of scripts and their URL prefixes. */
    public ScriptFolders folders() {
        return folders;
    }

    public CgiHost host() {
        return host;
    }

    public BytecodeCache cache() {
        return cache;
    }

    public InterpreterRegistry interpreters() {
        return interpreters;
    }

    /** Kiln's Python files in use now. */
    public PythonRuntime runtime() {
        return runtime.current();
    }

    public ScriptStatistics statistics() {
        return statistics;
    }

    public ForkServers forkServers() {
        return forkServers;
    }

    /** The scripts running now, longest-running first. */
    public List<ScriptRunner.Running> runningNow() {
        return runner.runningNow();
    }

    public KilnMetrics metrics() {
        return metrics;
    }

    /** Kiln is shutting down: readiness fails, so balancers stop sending before the listener closes. */
    public void beginStopping() {
        stopping = true;
    }

    public boolean stopping() {
        return stopping;
    }

    /** Waits up to {@code limit} for running scripts to finish on their own. */
    public void awaitIdle(Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (runner.running() > 0 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
    }

    /** Stops every running script and Kiln's helpers. */
    @Override
    public void close() {
        runner.close();
        forkServers.close();
        java.close();
    }
}
