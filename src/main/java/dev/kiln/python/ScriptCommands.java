package dev.kiln.python;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.CacheMode;
import dev.kiln.cgi.CommandPlanner;
import dev.kiln.cgi.Shebang;
import dev.kiln.config.PycValidation;

/**
 * Decides each script's command line. A shebang names the interpreter (its arguments honoured, {@code env NAME}
 * looked up on the scripts' PATH); a {@code .py} file without one uses the configured Python; anything else
 * runs with the configured executable, or not at all. Every Python script, by extension or by shebang, goes
 * through Kiln's bootstrap so its bytecode and that of its imports come from the shared cache.
 */
public final class ScriptCommands implements CommandPlanner {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.python");

    private final InterpreterRegistry interpreters;
    private final String defaultPython;
    private final List<String> executable;
    private final PythonRuntime runtime;
    private volatile PythonRuntime privateRuntime;
    private final BytecodeCache cache;
    private final PycValidation validation;
    private final Path scriptsRoot;
    private final Set<Path> warnedNoCache = ConcurrentHashMap.newKeySet();

    public ScriptCommands(InterpreterRegistry interpreters, String defaultPython, List<String> executable,
                          PythonRuntime runtime, BytecodeCache cache, PycValidation validation, Path scriptsRoot) {
        this.interpreters = interpreters;
        this.defaultPython = defaultPython;
        this.executable = List.copyOf(executable);
        this.runtime = runtime;
        this.cache = cache;
        this.validation = validation;
        this.scriptsRoot = scriptsRoot;
    }

    /** A Python script's interpreter and the interpreter arguments its shebang gives. */
    public record PythonTarget(PythonInterpreter interpreter, List<String> args) {
    }

    /** The interpreter a script runs with, when it is a Python script whose interpreter works. */
    public Optional<PythonTarget> pythonFor(Path script) throws IOException {
        Optional<Shebang> shebang = Shebang.read(script);
        if (shebang.isPresent()) {
            Shebang named = shebang.get().viaEnv().orElse(shebang.get());
            if (!InterpreterRegistry.isPythonName(named.interpreter())) {
                return Optional.empty();
            }
            return interpreters.lookup(named.interpreter()).map(py -> new PythonTarget(py, named.args()));
        }
        if (script.getFileName().toString().endsWith(".py")) {
            return interpreters.lookup(defaultPython).map(py -> new PythonTarget(py, List.of()));
        }
        return Optional.empty();
    }

    @Override
    public Plan plan(Path script, List<String> args) {
        Optional<Shebang> shebang;
        try {
            shebang = Shebang.read(script);
        } catch (IOException e) {
            return Plan.refuse("cannot read it: " + e.getMessage() + "; fix: make it readable by the user Kiln runs as");
        }
        CacheMode mode = cache.mode();
        if (shebang.isPresent()) {
            Shebang sb = shebang.get();
            Shebang named = sb.viaEnv().orElse(sb);
            if (InterpreterRegistry.isPythonName(named.interpreter())) {
                Optional<PythonInterpreter> py = interpreters.lookup(named.interpreter());
                if (py.isPresent()) {
                    return python(py.get(), named.args(), script, args, mode);
                }
            }
            Path interpreter = Path.of(sb.interpreter());
            if (!interpreter.isAbsolute() || !Files.isExecutable(interpreter)) {
                return Plan.cannotStart("its #! interpreter " + sb.interpreter() + " is not an executable file; fix: "
                        + "install it or correct the script's first line");
            }
            List<String> argv = new ArrayList<>(sb.args().size() + args.size() + 2);
            argv.add(sb.interpreter());
            argv.addAll(sb.args());
            argv.add(script.toString());
            argv.addAll(args);
            return new Plan(argv, plainEnv(mode), dev.kiln.run.StderrSink.NONE, null, false);
        }
        if (script.getFileName().toString().endsWith(".py")) {
            Optional<PythonInterpreter> py = interpreters.lookup(defaultPython);
            if (py.isEmpty()) {
                return Plan.cannotStart("the configured python '" + defaultPython + "' cannot be run ("
                        + interpreters.failure(defaultPython) + "); fix: set the python option to a working interpreter");
            }
            return python(py.get(), List.of(), script, args, mode);
        }
        if (!executable.isEmpty()) {
            List<String> argv = new ArrayList<>(executable);
            argv.add(script.toString());
            argv.addAll(args);
            return new Plan(argv, plainEnv(mode), dev.kiln.run.StderrSink.NONE, null, false);
        }
        return Plan.refuse("it has no #! line and is not a .py file; fix: add a shebang line such as "
                + "#!/bin/sh, or set the executable option");
    }

    private Plan python(PythonInterpreter py, List<String> interpreterArgs, Path script, List<String> args,
                        CacheMode mode) {
        String relative = scriptsRoot.relativize(script).toString();
        if (!py.cacheable()) {
            mode = CacheMode.OFF;
        }
        // -E and -I are fine: Kiln's loader takes the cache location from os.environ, which they leave alone
        if (interpreterArgs.contains("-B") && warnedNoCache.add(script)) {
            LOG.warn("{}: its shebang passes -B to Python, which turns bytecode caching off; it runs correctly but "
                    + "recompiles on every request; fix: remove -B from the #! line", script);
        }
        List<String> argv = new ArrayList<>(interpreterArgs.size() + args.size() + 6);
        argv.add(py.executable().toString());
        argv.addAll(interpreterArgs);
        argv.add(runtimeFor().boot().toString());
        argv.add(mode.word());
        argv.add(validation.word());
        argv.add(scriptsRoot.toString());
        argv.add(script.toString());
        argv.addAll(args);
        cache.countRequest(relative);
        return new Plan(argv, pythonEnv(mode), line -> cache.report(relative, line), null, true);
    }

    /** Kiln's Python files in the cache while it is safe, else in a private temporary folder. */
    private PythonRuntime runtimeFor() {
        if (cache.safe() || !runtime.dir().startsWith(cache.root())) {
            return runtime;
        }
        PythonRuntime p = privateRuntime;
        if (p == null) {
            synchronized (this) {
                if (privateRuntime == null) {
                    try {
                        privateRuntime = PythonRuntime.installPrivate();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
                p = privateRuntime;
            }
        }
        return p;
    }

    private Map<String, String> pythonEnv(CacheMode mode) {
        Map<String, String> env = new HashMap<>();
        if (mode == CacheMode.OFF) {
            env.put("PYTHONPYCACHEPREFIX", null);
            env.put("PYTHONDONTWRITEBYTECODE", "1");
        } else {
            env.put("PYTHONPYCACHEPREFIX", cache.prefix().toString());
            // read-only: CPython itself must not try to write its start-up modules there either
            env.put("PYTHONDONTWRITEBYTECODE", mode == CacheMode.RO ? "1" : null);
        }
        return env;
    }

    /** Non-Python scripts that start Python still keep its bytecode out of the scripts' folders. */
    private Map<String, String> plainEnv(CacheMode mode) {
        return mode == CacheMode.RW ? pythonEnv(mode) : pythonEnv(CacheMode.OFF);
    }
}
