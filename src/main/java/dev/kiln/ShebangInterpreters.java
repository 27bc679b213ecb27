package dev.kiln;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cgi.Shebang;
import dev.kiln.python.InterpreterRegistry;

/** The interpreters the scripts' shebangs name, which the script user must be able to run. */
final class ShebangInterpreters {
    private static final Logger LOG = LoggerFactory.getLogger("kiln");

    private ShebangInterpreters() {
    }

    /**
     * Probes the configured Python and every Python named by a shebang in the scripts folders; returns the
     * interpreters shebangs name (Pythons as resolved, others by absolute path) other than the configured Python.
     */
    static List<Path> discover(List<Path> roots, InterpreterRegistry interpreters, String python) {
        TreeSet<String> commands = new TreeSet<>();
        Set<Path> others = new TreeSet<>();
        commands.add(python);
        for (Path scripts : roots) {
            try (Stream<Path> files = Files.walk(scripts, 4)) {
                files.filter(Files::isRegularFile).limit(2000).forEach(f -> {
                    try {
                        Shebang.read(f).map(sb -> sb.viaEnv().orElse(sb)).map(Shebang::interpreter).ifPresent(i -> {
                            if (InterpreterRegistry.isPythonName(i)) {
                                commands.add(i);
                            } else if (i.startsWith("/") && Files.isExecutable(Path.of(i))) {
                                others.add(Path.of(i));
                            }
                        });
                    } catch (IOException e) {
                        // unreadable scripts are reported when requested
                    }
                });
            } catch (IOException e) {
                LOG.warn("cannot list scripts folder {}: {}", scripts, e.getMessage());
            }
        }
        for (String c : commands) {
            interpreters.lookup(c).filter(p -> !c.equals(python)).ifPresent(p -> others.add(p.executable()));
        }
        return new ArrayList<>(others);
    }
}
