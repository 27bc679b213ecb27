package dev.kiln.forkserver;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How to start one fork-server. Its children inherit everything Python fixes at start-up, so a fork-server serves
 * only requests whose interpreter, flags and start-up variables ({@code PYTHON*}, {@code LC_ALL}, {@code LC_CTYPE},
 * {@code LANG}, {@code HOME}) are these; it refuses the others ({@link ForkRefusedException}).
 *
 * @param python       the interpreter's real binary
 * @param flags        interpreter flags from the script's {@code #!} line, e.g. {@code [-u]}
 * @param environment  the environment it starts with: the one scripts get, minus the per-request CGI variables
 * @param runtimeDir   the folder holding kiln_forkserver.py and kiln_loader.py
 * @param cacheMode    kiln_loader's mode for the preload imports: {@code rw}, {@code ro} or {@code off}
 * @param validation   {@code timestamp} or {@code checked-hash}
 * @param scriptsRoot  the scripts folder, where preloaded application modules are looked up first
 * @param preload      modules every child finds imported
 * @param startTimeout how long the preload may take
 */
public record ForkServerSpec(Path python, List<String> flags, Map<String, String> environment, Path runtimeDir,
                             String cacheMode, String validation, Path scriptsRoot, List<String> preload,
                             Duration startTimeout) {
    /** The fork-server's entry file in the runtime folder. */
    public static final String SCRIPT = "kiln_forkserver.py";

    /** Variables that make Python report or record its own start-up, which a forked child cannot replay. */
    private static final Set<String> STARTUP_REPORTS = Set.of("PYTHONVERBOSE", "PYTHONPROFILEIMPORTTIME",
            "PYTHONTRACEMALLOC", "PYTHONINSPECT");

    public ForkServerSpec {
        flags = List.copyOf(flags);
        environment = Map.copyOf(environment);
        preload = List.copyOf(preload);
        Optional<String> why = unsupported(flags, environment);
        if (why.isPresent()) {
            throw new IllegalArgumentException(why.get());
        }
    }

    /** The interpreter as the status shows it, e.g. {@code /usr/bin/python3 -u}. */
    public String interpreter() {
        return flags.isEmpty() ? python.toString() : python + " " + String.join(" ", flags);
    }

    /**
     * Why scripts with these interpreter flags and this environment must run classic, if they must: what Python
     * does while it starts ({@code -v}, {@code -X importtime}, {@code -X tracemalloc}, {@code -i}, their
     * variables, {@code PYTHONCOERCECLOCALE=warn}) cannot happen again in a forked child.
     */
    public static Optional<String> unsupported(List<String> flags, Map<String, String> environment) {
        boolean ignoreEnv = false;
        for (int i = 0; i < flags.size(); i++) {
            String word = flags.get(i);
            if (!word.startsWith("-") || word.equals("-") || word.startsWith("--")) {
                return Optional.of("interpreter argument " + word + " is not a flag");
            }
            for (int c = 1; c < word.length(); c++) {
                char f = word.charAt(c);
                if (f == 'X' || f == 'W') {
                    String arg = c + 1 < word.length() ? word.substring(c + 1)
                            : i + 1 < flags.size() ? flags.get(++i) : "";
                    String name = arg.split("=", 2)[0];
                    if (f == 'X' && (name.equals("importtime") || name.equals("tracemalloc"))) {
                        return Optional.of("-X " + name + " reports on the interpreter's start-up");
                    }
                    break;
                }
                if ("ivcm".indexOf(f) >= 0) {
                    return Optional.of("-" + f + " cannot be reproduced by a forked child");
                }
                ignoreEnv |= f == 'E' || f == 'I';
            }
        }
        if (!ignoreEnv) {
            for (String name : STARTUP_REPORTS) {
                String value = environment.get(name);
                if (value != null && !value.isEmpty()) {
                    return Optional.of(name + " reports on the interpreter's start-up");
                }
            }
        }
        if ("warn".equals(environment.get("PYTHONCOERCECLOCALE")) && !ignoreEnv) {
            return Optional.of("PYTHONCOERCECLOCALE=warn warns at the interpreter's start-up");
        }
        return Optional.empty();
    }
}
