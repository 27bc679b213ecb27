package dev.kiln.cgi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * suEXEC's rule: a script that users other than its owner may change, or that sits in a folder they may change,
 * is not run, since whoever can write it can run code as the script user. A few stats per request.
 */
final class WritableScripts {
    private final Path root;
    private final boolean allowed;

    /**
     * @param root    the scripts folder (a real path): its own mode counts, its parents' do not
     * @param allowed the allow-writable-scripts option: run them anyway
     */
    WritableScripts(Path root, boolean allowed) {
        this.root = root;
        this.allowed = allowed;
    }

    /** Why {@code script} (a real path, below the root unless a symlink led out of it) must not run, or empty. */
    Optional<String> refusal(Path script) {
        if (allowed) {
            return Optional.empty();
        }
        try {
            if (writableByOthers(script)) {
                return Optional.of("it is writable by users other than its owner, who could run anything as the "
                        + "script user; fix: chmod go-w " + script + " (or set allow-writable-scripts=true)");
            }
            // a target outside the folder (a followed symlink, option symlinks): its own folder, as suEXEC checks
            Path top = script.startsWith(root) ? root : script.getParent();
            for (Path dir = script.getParent(); dir != null && dir.startsWith(top); dir = dir.getParent()) {
                if (writableByOthers(dir)) {
                    return Optional.of("its folder " + dir + " is writable by users other than its owner, who "
                            + "could replace it; fix: chmod go-w " + dir + " (or set allow-writable-scripts=true)");
                }
            }
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty(); // cannot tell: reading it will say what is wrong
        }
        return Optional.empty();
    }

    private static boolean writableByOthers(Path p) throws IOException {
        return ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 022) != 0;
    }
}
