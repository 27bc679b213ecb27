package dev.kiln;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.kiln.cgi.ScriptFolders;
import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;

/** The scripts folder as Kiln's user finds it at start. */
public final class ScriptsFolder {
    private ScriptsFolder() {
    }

    /**
     * The folders of scripts, each checked: {@code scripts} at /cgi-bin (the first alias, as Kiln prepared it), then
     * each script-alias. Folders that are one another or inside one another are refused: a script would have two
     * URLs, two SCRIPT_NAMEs, and the rules of whichever prefix a client picks.
     */
    static ScriptFolders folders(Path scripts, List<KilnConfig.Alias> aliases) throws IOException {
        List<ScriptFolders.Folder> out = new ArrayList<>();
        for (KilnConfig.Alias a : aliases) {
            Path folder = out.isEmpty() ? scripts : a.folder();
            if (!out.isEmpty() && !Files.exists(folder)) {
                throw new ConfigException("script-alias folder " + folder + " (for " + a.prefix() + "/) does not "
                        + "exist; fix: create it, or correct the script-alias option");
            }
            check(folder);
            Path real = folder.toRealPath();
            for (ScriptFolders.Folder other : out) {
                if (real.startsWith(other.root()) || other.root().startsWith(real)) {
                    throw new ConfigException("script-alias " + a.prefix() + "/=" + folder + " overlaps the folder of "
                            + other.prefix() + "/ (" + other.root() + "): a script would have two URLs; fix: give "
                            + "each prefix a folder of its own, none inside another");
                }
            }
            out.add(new ScriptFolders.Folder(a.prefix(), real));
        }
        return new ScriptFolders(out);
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
