package dev.kiln.python;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.CacheMode;
import dev.kiln.cache.ScriptStatistics;
import dev.kiln.cgi.ScriptFolders;
import dev.kiln.config.PycValidation;
import dev.kiln.run.Command;
import dev.kiln.run.ExecLaunch;
import dev.kiln.run.Launcher;
import dev.kiln.run.ScriptProcess;
import dev.kiln.run.ScriptRunner;

/**
 * Classic mode: a fresh interpreter per request, started on Kiln's bootstrap, so the entry script and its
 * imports come from the shared cache. The bootstrap makes itself a session leader (no {@code setsid} exec) and
 * reports its counters on stderr, which {@link LoaderReport} takes out.
 */
public final class PythonLauncher implements Launcher {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.python");

    /**
     * What every Python launcher shares.
     *
     * @param folders the folders of scripts: the loader caches the bytecode of what lies in a script's own folder
     */
    public record Setup(ScriptRunner runner, BytecodeCache cache, ScriptStatistics statistics,
                        RuntimeFiles runtime, PycValidation validation, ScriptFolders folders,
                        TrustedCompiles compiles) {
    }

    private final PythonInterpreter python;
    private final Setup setup;
    private final Set<Path> warnedNoCache = ConcurrentHashMap.newKeySet();

    public PythonLauncher(PythonInterpreter python, Setup setup) {
        this.python = python;
        this.setup = setup;
    }

    public PythonInterpreter python() {
        return python;
    }

    /** The cache mode a script of this interpreter runs with now. */
    CacheMode cacheMode() {
        return python.cacheable() ? setup.cache().mode() : CacheMode.OFF;
    }

    /**
     * What the loader of a script may do with the cache: a script user other than Kiln's only reads it (Kiln
     * compiles on its own side), never writes what Kiln or another script loads.
     */
    CacheMode loaderMode(CacheMode kilnMode) {
        return kilnMode == CacheMode.RW && setup.runner().user().switches() ? CacheMode.RO : kilnMode;
    }

    /** What takes the loader's lines out of a script's stderr and counts its run. */
    LoaderReport report(Path script) {
        return new LoaderReport(setup.folders().name(script), script, setup.statistics(),
                setup.cache(), setup.compiles());
    }

    @Override
    public Launch prepare(Command command) {
        CacheMode mode = cacheMode();
        // -E and -I are fine: Kiln's loader takes the cache location from os.environ, which they leave alone
        if (command.interpreter().contains("-B") && warnedNoCache.add(command.script())) {
            LOG.warn("{}: its shebang passes -B to Python, which turns bytecode caching off; it runs correctly but "
                    + "recompiles on every request; fix: remove -B from the #! line", command.script());
        }
        List<String> argv = new ArrayList<>(command.interpreter());
        argv.addAll(LoaderProtocol.bootArgs(setup.runtime().current().boot(), loaderMode(mode),
                setup.validation(), setup.folders().of(command.script()).root(), command.script(), command.args()));
        LoaderReport report = report(command.script());
        Map<String, String> env = cacheEnvironment(mode, setup.cache().prefix());
        env.put(LoaderProtocol.FOLDER_VARIABLE, command.script().getParent().toString());
        return compiledFirst(new ExecLaunch(setup.runner(), argv, env, true, report), command, report);
    }

    /** {@code launch}, started once {@link #compileFirst} is done. */
    private Launch compiledFirst(Launch launch, Command command, LoaderReport report) {
        return new Launch() {
            @Override
            public Map<String, String> environment() {
                return launch.environment();
            }

            @Override
            public ScriptProcess start(Map<String, String> env, Path workDir, String logName) throws IOException {
                compileFirst(command, report);
                return launch.start(env, workDir, logName);
            }
        };
    }

    /**
     * Kiln compiles the script on its side before it runs, when scripts only read the cache, unless its shebang's
     * -B says its bytecode is never written; the run's counters include what it compiled.
     */
    void compileFirst(Command command, LoaderReport report) {
        if (!command.interpreter().contains("-B")) {
            report.compiledByKiln(setup.compiles().beforeRun(command.script()));
        }
    }

    /** What tells CPython where bytecode goes: the cache prefix in rw and ro mode, nowhere in off mode. */
    static Map<String, String> cacheEnvironment(CacheMode mode, Path prefix) {
        Map<String, String> env = new HashMap<>();
        if (mode == CacheMode.OFF) {
            env.put("PYTHONPYCACHEPREFIX", null);
            env.put("PYTHONDONTWRITEBYTECODE", "1");
        } else {
            env.put("PYTHONPYCACHEPREFIX", prefix.toString());
            // read-only: CPython itself must not try to write its start-up modules there either
            env.put("PYTHONDONTWRITEBYTECODE", mode == CacheMode.RO ? "1" : null);
        }
        return env;
    }

    /** For scripts that are not Python but may start it: keep its bytecode out of the scripts' folders. */
    public static Map<String, String> plainEnvironment(BytecodeCache cache) {
        CacheMode mode = cache.mode();
        return cacheEnvironment(mode == CacheMode.RW ? mode : CacheMode.OFF, cache.prefix());
    }
}
