package dev.kiln.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What to run for one request, before any launcher has added its own arguments.
 *
 * @param interpreter the interpreter and the arguments its {@code #!} line gives, e.g. {@code [/bin/sh]} or
 *                    {@code [/usr/bin/python3, -u]}
 * @param script      the script file (a real path inside the scripts folder)
 * @param args        RFC 3875 4.4 command-line words for the script, usually none
 */
public record Command(List<String> interpreter, Path script, List<String> args) {
    public Command {
        interpreter = List.copyOf(interpreter);
        args = List.copyOf(args);
    }

    /** The plain command line: interpreter, its arguments, the script, the script's arguments. */
    public List<String> argv() {
        return argv(script.toString());
    }

    /**
     * The command line as run: the script by its name in its folder, which is the working folder
     * {@link ScriptRunner} entered and checked, so the interpreter opens the file that was checked even if a
     * folder on its path is swapped for a symlink meanwhile.
     */
    public List<String> argvInFolder() {
        return argv(script.getFileName().toString());
    }

    private List<String> argv(String scriptName) {
        List<String> argv = new ArrayList<>(interpreter.size() + args.size() + 1);
        argv.addAll(interpreter);
        argv.add(scriptName);
        argv.addAll(args);
        return argv;
    }
}
