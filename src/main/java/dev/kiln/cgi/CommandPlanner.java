package dev.kiln.cgi;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.kiln.run.Command;
import dev.kiln.run.Launcher;
import dev.kiln.run.ScriptUser;

/**
 * Decides how each script runs, without side effects. A {@code #!} line names the interpreter (its words
 * honoured, {@code env NAME} looked up by the kind that knows NAME); a file without one is claimed by a
 * {@link ScriptKind} by its name ({@code .py}) or runs with the configured executable; anything else is refused.
 */
public final class CommandPlanner {
    private final LibraryFiles library;
    private final List<ScriptKind> kinds;
    private final Launcher exec;
    private final List<String> executable;
    private final boolean commandLineArgs;
    private final WritableScripts writable;
    private final ExecuteBit executeBit;

    /**
     * What a script's file must be to run.
     *
     * @param allowWritable run scripts others may write (option allow-writable-scripts), else they are refused
     * @param user          who runs scripts, whose execute bit counts
     * @param requireExec   refuse scripts without that execute bit (option require-exec)
     */
    public record FileRules(boolean allowWritable, ScriptUser user, boolean requireExec) {
    }

    /**
     * @param library         what scripts import, refused when requested; its root is the scripts folder
     * @param kinds           the kinds with launchers of their own, asked in order
     * @param exec            the launcher of every other script
     * @param executable      the executable option: runs files that have no {@code #!} line (empty: refused)
     * @param commandLineArgs whether a query string without '=' becomes command-line words (RFC 3875 4.4)
     * @param rules           what a script's file must be to run
     */
    public CommandPlanner(LibraryFiles library, List<ScriptKind> kinds, Launcher exec, List<String> executable,
                          boolean commandLineArgs, FileRules rules) {
        this.library = library;
        this.kinds = List.copyOf(kinds);
        this.exec = exec;
        this.executable = List.copyOf(executable);
        this.commandLineArgs = commandLineArgs;
        this.writable = new WritableScripts(library.root(), rules.allowWritable());
        this.executeBit = new ExecuteBit(rules.user(), rules.requireExec());
    }

    /**
     * Why a file is one scripts import rather than clients run (the library option, a Python package's module, a
     * kind's helper such as a Java class without main): never run, never listed. Empty for a script.
     */
    public Optional<String> imported(Path script) {
        Optional<String> why = library.why(script);
        for (int i = 0; why.isEmpty() && i < kinds.size(); i++) {
            why = kinds.get(i).imported(script);
        }
        return why;
    }

    /** @param queryString the request's, for RFC 3875 4.4 command-line words */
    public Plan plan(Path script, String queryString) {
        Optional<String> imported = imported(script);
        if (imported.isPresent()) {
            return new Plan.Refuse(imported.get());
        }
        Optional<String> unsafe = writable.refusal(script);
        if (unsafe.isPresent()) {
            return new Plan.Refuse(unsafe.get());
        }
        Plan plan = choose(script, commandLineArgs(queryString));
        if (plan instanceof Plan.Run) {
            // a file that is no script at all keeps its 403; one Kiln would run needs its execute bit, else 500
            Optional<String> notExecutable = executeBit.refusal(script);
            if (notExecutable.isPresent()) {
                return new Plan.CannotStart(notExecutable.get());
            }
        }
        return plan;
    }

    private Plan choose(Path script, List<String> args) {
        Optional<Shebang> shebang;
        try {
            shebang = Shebang.read(script);
        } catch (IOException e) {
            return new Plan.Refuse("cannot read it: " + e.getMessage()
                    + "; fix: make it readable by the user Kiln runs as");
        }
        if (shebang.isPresent()) {
            Shebang sb = shebang.get();
            Shebang named = sb.viaEnv().orElse(sb);
            for (ScriptKind kind : kinds) {
                if (kind.interprets(named.interpreter())) {
                    Plan plan = kind.plan(named.interpreter(), named.args(), script, args);
                    if (plan instanceof Plan.Run) {
                        return plan;
                    }
                    break; // an interpreter its kind cannot use may still run as a plain #! interpreter
                }
            }
            Path interpreter = Path.of(sb.interpreter());
            if (!interpreter.isAbsolute() || !Files.isExecutable(interpreter)) {
                return new Plan.CannotStart("its #! interpreter " + sb.interpreter() + " is not an executable file; "
                        + "fix: install it or correct the script's first line");
            }
            List<String> interpreterArgv = new ArrayList<>(sb.args().size() + 1);
            interpreterArgv.add(sb.interpreter());
            interpreterArgv.addAll(sb.args());
            return new Plan.Run(exec, new Command(interpreterArgv, script, args));
        }
        for (ScriptKind kind : kinds) {
            if (kind.claims(script)) {
                return kind.plan(null, List.of(), script, args);
            }
        }
        if (!executable.isEmpty()) {
            return new Plan.Run(exec, new Command(executable, script, args));
        }
        return new Plan.Refuse("it has no #! line and is not a .py or .java file; fix: add a shebang line such as "
                + "#!/bin/sh, or set the executable option");
    }

    /** RFC 3875 4.4: a query string without '=' is '+'-separated, URL-encoded command-line words. */
    private List<String> commandLineArgs(String query) {
        if (!commandLineArgs || query == null || query.isEmpty() || query.indexOf('=') >= 0) {
            return List.of();
        }
        List<String> args = new ArrayList<>();
        for (String word : query.split("\\+")) {
            String decoded = URLDecoder.decode(word.replace("+", "%2B"), StandardCharsets.UTF_8);
            if (!decoded.isEmpty()) {
                args.add(decoded);
            }
        }
        return args;
    }
}
