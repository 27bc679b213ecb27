package dev.kiln.cgi;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;
import java.util.Optional;

/**
 * Files under the scripts folder that scripts import rather than clients run: a {@code .py} file in a package
 * (a folder with {@code __init__.py}) and whatever matches the {@code library} option's globs (relative to the
 * scripts folder, e.g. {@code lib/**}). Apache users keep such files without their execute bit; Kiln needs no bit
 * to know them, and refuses to run them by URL.
 *
 * @param root     the scripts folder
 * @param patterns the library option's globs, as given
 */
public record LibraryFiles(Path root, List<String> patterns) {
    public LibraryFiles {
        patterns = List.copyOf(patterns);
    }

    /** Why {@code script} (a file under the root) is a library file, or empty when it is a script. */
    public Optional<String> why(Path script) {
        Path relative = root.relativize(script);
        for (String glob : patterns) {
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + glob);
            if (m.matches(relative)) {
                return Optional.of("it matches the library option's " + glob + ", files scripts import; fix: take it "
                        + "off the library option if clients are meant to run it");
            }
        }
        Path folder = script.getParent();
        if (script.getFileName().toString().endsWith(".py") && folder != null && !folder.equals(root)
                && Files.isRegularFile(folder.resolve("__init__.py"))) {
            return Optional.of("it is a module of the package " + root.relativize(folder) + " (a folder with "
                    + "__init__.py), which scripts import; fix: move the script out of the package folder");
        }
        return Optional.empty();
    }
}
