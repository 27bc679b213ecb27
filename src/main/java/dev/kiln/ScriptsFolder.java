package dev.kiln;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.kiln.config.ConfigException;

/** The scripts folder as Kiln's user finds it at start. */
public final class ScriptsFolder {
    private ScriptsFolder() {
    }

    /** A scripts folder Kiln cannot use is a one-line error saying why, as whom, and the fix. */
    public static void check(Path scripts) {
        String user = System.getProperty("user.name");
        if (Files.isDirectory(scripts) && !(Files.isReadable(scripts) && Files.isExecutable(scripts))) {
            throw new ConfigException("scripts folder " + scripts + " is not readable by user " + user + "; fix: "
                    + "chmod o+rx " + scripts + " (or chown it to " + user + ")");
        }
        if (!Files.isDirectory(scripts)) {
            boolean parentBlocked = scripts.getParent() != null && Files.isDirectory(scripts.getParent())
                    && !Files.isExecutable(scripts.getParent());
            throw new ConfigException(parentBlocked
                    ? "scripts folder " + scripts + " cannot be reached by user " + user + ": " + scripts.getParent()
                            + " is not searchable; fix: chmod o+x " + scripts.getParent()
                    : "scripts folder " + scripts + " does not exist or is not a folder; fix: create it or pass "
                            + "--scripts DIR");
        }
    }
}
