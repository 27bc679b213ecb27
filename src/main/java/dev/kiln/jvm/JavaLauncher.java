package dev.kiln.jvm;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.kiln.cgi.ScriptFolders;
import dev.kiln.run.Command;
import dev.kiln.run.ExecLaunch;
import dev.kiln.run.Launcher;
import dev.kiln.run.ScriptNotStartedException;
import dev.kiln.run.ScriptProcess;
import dev.kiln.run.ScriptRunner;
import dev.kiln.run.StderrFilter;

/**
 * Runs the Java scripts of one JDK: {@code java [shebang flags] -cp <cached jar> <main class>}, compiled first
 * when a file changed, with the script's start-up cache once it exists. When the cache cannot hold a jar the
 * script still runs, from source as {@code java Script.java} would.
 */
public final class JavaLauncher implements Launcher {
    /** The JVM's own warnings go to stderr, which Kiln logs: on stdout they would break the CGI response. */
    private static final List<String> LOGGING = List.of("-Xlog:disable", "-Xlog:all=warning:stderr");

    /** What every Java launcher shares. */
    record Setup(ScriptRunner runner, CompiledScripts compiled, AotCaches aot, JavaStatistics statistics,
                 ScriptFolders folders) {
    }

    private final Jdk jdk;
    private final Setup setup;

    JavaLauncher(Jdk jdk, Setup setup) {
        this.jdk = jdk;
        this.setup = setup;
    }

    @Override
    public Launch prepare(Command command) {
        List<String> words = command.interpreter().subList(1, command.interpreter().size());
        return new JavaLaunch(JavaProgram.of(command.script(), jdk, words), command.args());
    }

    /** {@code java}, its logging, {@code extra}, then the shebang's JVM options. */
    static List<String> vmArgs(JavaProgram p, String... extra) {
        List<String> argv = new ArrayList<>();
        argv.add(p.jdk().java().toString());
        argv.addAll(LOGGING);
        argv.addAll(List.of(extra));
        argv.addAll(p.runArgs());
        return argv;
    }

    /** The jar, then the shebang's own class path. */
    static String classPath(CompiledScript c, JavaProgram p) {
        return p.classPath().isEmpty() ? c.jar().toString() : c.jar() + ":" + p.classPath();
    }

    /** One request's run: the compile (when needed) happens when it starts, after the request was admitted. */
    private final class JavaLaunch implements Launch {
        private final JavaProgram program;
        private final List<String> args;

        JavaLaunch(JavaProgram program, List<String> args) {
            this.program = program;
            this.args = args;
        }

        @Override
        public Map<String, String> environment() {
            return Map.of();
        }

        @Override
        public ScriptProcess start(Map<String, String> env, Path workDir, String logName) throws IOException {
            JavaStatistics.Counters counters = setup.statistics().of(setup.folders().name(program.script()));
            counters.jdk = jdk.version();
            counters.requests.increment();
            Optional<CompiledScript> compiled;
            try {
                compiled = setup.compiled().get(program, counters);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while compiling " + program.script());
            }
            if (compiled.isEmpty()) {
                return exec(fromSource(), env, workDir, logName);
            }
            CompiledScript c = compiled.get();
            if (!c.ok()) {
                throw new ScriptNotStartedException(program.script() + " does not compile (" + c.errors().size()
                        + " errors, first " + c.errors().get(0) + "; each was logged when it was compiled); fix: "
                        + "correct them: Kiln compiles it again when one of its files changes");
            }
            Path aot = setup.aot().usable(c, jdk);
            List<String> argv = aot == null ? vmArgs(program) : vmArgs(program, jdk.aotKind().useOption(aot));
            argv.addAll(List.of("-cp", classPath(c, program), c.mainClass()));
            argv.addAll(args);
            ScriptProcess proc = exec(argv, env, workDir, logName);
            if (aot == null) {
                proc.whenExited(code -> {
                    if (code == 0) {
                        setup.aot().afterGoodRun(c, program, env, workDir, counters);
                    }
                });
            }
            return proc;
        }

        /** What {@code java Script.java} would run: the uncached way, for a cache that cannot hold jars. */
        private List<String> fromSource() {
            List<String> argv = vmArgs(program);
            if (program.sourceFlag()) {
                argv.addAll(List.of("--source", Integer.toString(program.release())));
            }
            if (!program.classPath().isEmpty()) {
                argv.addAll(List.of("-cp", program.classPath()));
            }
            argv.add(program.script().toString());
            argv.addAll(args);
            return argv;
        }

        private ScriptProcess exec(List<String> argv, Map<String, String> env, Path workDir, String logName)
                throws IOException {
            return new ExecLaunch(setup.runner(), argv, Map.of(), false, StderrFilter.NONE).start(env, workDir,
                    logName);
        }
    }
}
