package dev.kiln;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.CacheMode;
import dev.kiln.cache.CachePruner;
import dev.kiln.cache.ScriptStatistics;
import dev.kiln.cgi.CgiEnvironment;
import dev.kiln.cgi.CgiHost;
import dev.kiln.cgi.CommandPlanner;
import dev.kiln.cgi.ScriptResolver;
import dev.kiln.cgi.Shebang;
import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.RunMode;
import dev.kiln.python.ForkServerLauncher;
import dev.kiln.python.ForkServers;
import dev.kiln.python.InterpreterRegistry;
import dev.kiln.python.Precompiler;
import dev.kiln.python.PythonInterpreter;
import dev.kiln.python.PythonLauncher;
import dev.kiln.python.PythonRuntime;
import dev.kiln.python.PythonScripts;
import dev.kiln.python.RuntimeFiles;
import dev.kiln.run.ExecLauncher;
import dev.kiln.run.RunLimiter;
import dev.kiln.run.RunSettings;
import dev.kiln.run.ScriptLimits;
import dev.kiln.run.ScriptRunner;

/**
 * One assembled Kiln: configuration, scripts folder, interpreters, cache and the CGI host, shared by the
 * standalone server and the WAR. Built once at start; {@link #close()} stops every script and helper.
 */
public final class Kiln implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln");
    public static final String VERSION = versionFromManifest();

    private final KilnConfig config;
    private final Map<String, String> scriptEnv;
    private final InterpreterRegistry interpreters;
    private final BytecodeCache cache;
    private final ScriptStatistics statistics = new ScriptStatistics();
    private final RuntimeFiles runtime;
    private final ScriptRunner runner;
    private final PythonScripts python;
    private final ForkServers forkServers;
    private final CgiHost host;

    /**
     * @param hostEnv Kiln's own environment, the source of pass-through variables
     * @param tmpDir  where request bodies are spooled
     */
    public Kiln(KilnConfig config, Map<String, String> hostEnv, Path tmpDir) throws IOException {
        this.config = config;
        KilnConfig.Interpreters interp = config.interpreters();
        KilnConfig.Protocol protocol = config.protocol();
        KilnConfig.Timeouts timeouts = config.timeouts();
        KilnConfig.Concurrency concurrency = config.concurrency();
        Path scripts = config.folders().scripts().toAbsolutePath().normalize();
        if (!Files.isDirectory(scripts)) {
            throw new ConfigException("scripts folder " + scripts + " does not exist or is not a folder; fix: "
                    + "create it or pass --scripts DIR");
        }
        ScriptResolver resolver = new ScriptResolver(scripts);
        this.scriptEnv = CgiEnvironment.base(protocol.passEnv(), protocol.env(), hostEnv);
        this.interpreters = new InterpreterRegistry(scriptEnv);
        this.cache = new BytecodeCache(config.folders().cache());
        this.runtime = new RuntimeFiles(cache);
        KilnConfig.Limits limits = config.limits();
        this.runner = new ScriptRunner(new RunSettings(timeouts.timeout(), timeouts.idleTimeout(),
                timeouts.killGrace(), timeouts.stderrTimeout(), config.sizes().maxStderrLine(),
                new ScriptLimits(limits.cpuSeconds(), limits.memory(), limits.processes(), limits.openFiles(),
                        limits.fileSize(), limits.coreSize())));
        PythonLauncher.Setup setup = new PythonLauncher.Setup(runner, cache, statistics, runtime,
                config.interpreters().pycValidation(), resolver.root());
        Map<String, String> forkEnv = ForkServers.startEnvironment(scriptEnv, cache.prefix());
        this.forkServers = new ForkServers(key -> ForkServers.spec(key, setup, forkEnv,
                config.interpreters().preload()));
        boolean fork = config.interpreters().runMode() == RunMode.FORKSERVER;
        this.python = new PythonScripts(interpreters, config.interpreters().python(), py -> fork
                ? new ForkServerLauncher(new PythonLauncher(py, setup), setup, forkServers, forkEnv)
                : new PythonLauncher(py, setup));
        CommandPlanner planner = new CommandPlanner(List.of(python),
                new ExecLauncher(runner, () -> PythonLauncher.plainEnvironment(cache)), interp.executable(),
                protocol.cmdLineArguments());
        this.host = new CgiHost(new CgiHost.Settings(
                resolver,
                planner,
                new RunLimiter(concurrency.maxConcurrent(), concurrency.maxQueued(), concurrency.queueTimeout()),
                new CgiEnvironment(scriptEnv, resolver.root().toString(), protocol.passAuth(),
                        protocol.envHttpHeaders(), "Kiln/" + VERSION),
                tmpDir.resolve("kiln-bodies"),
                config.sizes().maxBody(),
                config.sizes().maxHeaderSize(),
                protocol.methods()));
        discoverInterpreters(resolver.root());
    }

    /** What a server does once at start: prune the cache, and warm it when the precompile option says so. */
    public void startServing() {
        prune();
        if (config.interpreters().precompile()) {
            precompileInBackground();
        }
    }

    /** Removes bytecode of gone sources and of interpreters that are gone; logs what it removed. */
    public CachePruner.Result prune() {
        if (cache.mode() != CacheMode.RW) {
            return new CachePruner.Result(0, 0, 0, 0);
        }
        Set<String> tags = new HashSet<>();
        interpreters.known().forEach(p -> tags.add(p.cacheTag()));
        if (tags.isEmpty()) {
            return new CachePruner.Result(0, 0, 0, 0); // nothing is known to be in use: keep everything
        }
        try {
            for (PythonInterpreter p : interpreters.known()) {
                CachePruner.record(cache.prefix(), p.cacheTag(), p.executable());
            }
            CachePruner.Result r = CachePruner.prune(cache.prefix(), tags);
            if (r.files() > 0) {
                LOG.info("pruned {} cached files ({} bytes): {} of interpreters that are gone, {} whose source is gone",
                        r.files(), r.bytes(), r.staleTags(), r.goneSources());
            }
            return r;
        } catch (IOException e) {
            LOG.warn("pruning cache {} stopped: {}; fix: check the cache folder's permissions", cache.prefix(),
                    e.toString());
            return new CachePruner.Result(0, 0, 0, 0);
        }
    }

    public Precompiler precompiler() {
        return new Precompiler(python, runtime, cache, config.interpreters().pycValidation(),
                host.settings().resolver().root(), scriptEnv);
    }

    /** Warms the cache on a background thread (option precompile), so not even the first request pays. */
    public void precompileInBackground() {
        Thread t = new Thread(() -> {
            try {
                long start = System.nanoTime();
                Precompiler.Summary s = precompiler().run(Precompiler.Progress.NONE);
                LOG.info("precompiled {} scripts in {} ms: {} modules compiled, {} already fresh, {} errors",
                        s.scripts(), (System.nanoTime() - start) / 1_000_000, s.compiled(), s.fresh(),
                        s.errors().size() + s.failures().size());
                s.errors().forEach(e -> LOG.warn("precompile: {}", e));
                s.failures().forEach(e -> LOG.warn("precompile: {}", e));
            } catch (IOException e) {
                LOG.warn("precompile stopped: {}", e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "kiln-precompile");
        t.setDaemon(true);
        t.start();
    }

    /** Probes the configured Python and every Python named by a shebang in the scripts folder. */
    private void discoverInterpreters(Path scripts) {
        TreeSet<String> commands = new TreeSet<>();
        commands.add(config.interpreters().python());
        try (Stream<Path> files = Files.walk(scripts, 4)) {
            files.filter(Files::isRegularFile).limit(2000).forEach(f -> {
                try {
                    Shebang.read(f).map(sb -> sb.viaEnv().orElse(sb)).map(Shebang::interpreter)
                            .filter(InterpreterRegistry::isPythonName).ifPresent(commands::add);
                } catch (IOException e) {
                    // unreadable scripts are reported when requested
                }
            });
        } catch (IOException e) {
            LOG.warn("cannot list scripts folder {}: {}", scripts, e.getMessage());
        }
        for (String c : commands) {
            interpreters.lookup(c);
        }
    }

    /** The startup summary: where scripts and cache are, and each interpreter found. */
    public void logStartup(String url) {
        if (url != null) {
            LOG.info("Kiln {} serving {}cgi-bin/", VERSION, url);
        }
        LOG.info("scripts folder: {}", host.settings().resolver().root());
        LOG.info("cache folder: {} ({})", cache.root(), cache.mode().word());
        String fileNames = System.getProperty("sun.jnu.encoding", "UTF-8");
        if (!fileNames.equalsIgnoreCase("UTF-8")) {
            LOG.warn("Kiln runs in a locale whose encoding is {}: scripts still get every byte of their "
                    + "environment, but files whose names are not ASCII cannot be found; fix: start Kiln with "
                    + "LANG=C.UTF-8", fileNames);
        }
        List<PythonInterpreter> found = List.copyOf(interpreters.known());
        if (found.isEmpty()) {
            LOG.warn("no Python interpreter found; Python scripts will fail; fix: install python3 or set --python");
        }
        // several names (python3, /usr/bin/python3, env python3) often lead to one binary: one line each
        Map<Path, List<String>> names = new LinkedHashMap<>();
        Map<Path, PythonInterpreter> byBinary = new LinkedHashMap<>();
        for (PythonInterpreter p : found) {
            names.computeIfAbsent(p.executable(), k -> new ArrayList<>()).add(p.command());
            byBinary.putIfAbsent(p.executable(), p);
        }
        for (PythonInterpreter p : byBinary.values()) {
            LOG.info("python {} version {} cache tag {} (as {}){}", p.executable(), p.version(),
                    p.cacheTag().isEmpty() ? "(none)" : p.cacheTag(), String.join(", ", names.get(p.executable())),
                    p.cacheable() ? "" : ", not cached: needs CPython 3.8+");
        }
    }

    public KilnConfig config() {
        return config;
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
    }

    private static String versionFromManifest() {
        String v = Kiln.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0" : v;
    }
}
