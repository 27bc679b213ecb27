package dev.kiln.run;

import java.util.Map;
import java.util.function.Supplier;

/** Runs a script's interpreter as its {@code #!} line (or the executable option) names it, nothing added. */
public final class ExecLauncher implements Launcher {
    private final ScriptRunner runner;
    private final Supplier<Map<String, String>> environment;

    /**
     * @param environment what every such script gets on top of the CGI variables, read once per request (the
     *                    bytecode-cache variables, so Python started by a shell script stays out of script folders)
     */
    public ExecLauncher(ScriptRunner runner, Supplier<Map<String, String>> environment) {
        this.runner = runner;
        this.environment = environment;
    }

    @Override
    public Launch prepare(Command command) {
        return new ExecLaunch(runner, command.argvInFolder(), environment.get(), false, StderrFilter.NONE);
    }
}
