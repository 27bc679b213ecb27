package dev.kiln.python;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import dev.kiln.cgi.Plan;
import dev.kiln.cgi.ScriptKind;
import dev.kiln.cgi.Shebang;
import dev.kiln.run.Command;
import dev.kiln.run.Launcher;

/**
 * Python scripts: {@code .py} files without a {@code #!} line (they run with the configured python) and files
 * whose {@code #!} line names a Python. Each interpreter, probed once, gets its launcher.
 */
public final class PythonScripts implements ScriptKind {
    private final InterpreterRegistry interpreters;
    private final String defaultPython;
    private final Function<PythonInterpreter, Launcher> launcherFor;
    private final Map<PythonInterpreter, Launcher> launchers = new ConcurrentHashMap<>();

    /** @param launcherFor the launcher of one interpreter (classic, or a fork-server with classic behind it) */
    public PythonScripts(InterpreterRegistry interpreters, String defaultPython,
                         Function<PythonInterpreter, Launcher> launcherFor) {
        this.interpreters = interpreters;
        this.defaultPython = defaultPython;
        this.launcherFor = launcherFor;
    }

    /** A Python script's interpreter and the interpreter arguments its shebang gives. */
    public record PythonTarget(PythonInterpreter interpreter, List<String> args) {
    }

    @Override
    public boolean interprets(String interpreter) {
        return InterpreterRegistry.isPythonName(interpreter);
    }

    @Override
    public boolean claims(Path script) {
        return script.getFileName().toString().endsWith(".py");
    }

    @Override
    public Plan plan(String interpreter, List<String> interpreterArgs, Path script, List<String> args) {
        String command = interpreter == null ? defaultPython : interpreter;
        Optional<PythonInterpreter> py = interpreters.lookup(command);
        if (py.isEmpty()) {
            return new Plan.CannotStart("the configured python '" + command + "' cannot be run ("
                    + interpreters.failure(command) + "); fix: set the python option to a working interpreter");
        }
        List<String> argv = new ArrayList<>(interpreterArgs.size() + 1);
        argv.add(py.get().executable().toString());
        argv.addAll(interpreterArgs);
        Launcher launcher = launchers.computeIfAbsent(py.get(), launcherFor);
        return new Plan.Run(launcher, new Command(argv, script, args));
    }

    /** The interpreter a script runs with, when it is a Python script whose interpreter works. */
    public Optional<PythonTarget> pythonFor(Path script) throws IOException {
        Optional<Shebang> shebang = Shebang.read(script);
        if (shebang.isPresent()) {
            Shebang named = shebang.get().viaEnv().orElse(shebang.get());
            if (!interprets(named.interpreter())) {
                return Optional.empty();
            }
            return interpreters.lookup(named.interpreter()).map(p -> new PythonTarget(p, named.args()));
        }
        if (claims(script)) {
            return interpreters.lookup(defaultPython).map(p -> new PythonTarget(p, List.of()));
        }
        return Optional.empty();
    }
}
