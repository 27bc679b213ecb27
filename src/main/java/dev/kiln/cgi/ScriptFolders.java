package dev.kiln.cgi;

import java.nio.file.Path;
import java.util.List;

/**
 * The folders whose files run as CGI scripts, each at its URL prefix: the scripts folder at {@code /cgi-bin}
 * first, then each script-alias (Apache's ScriptAlias). A script is named by its path below the scripts folder
 * ({@code app.py}), or, in another folder, by its URL path ({@code /tools/report.py}): names stay unique.
 */
public record ScriptFolders(List<Folder> folders) {
    /**
     * One folder and its prefix.
     *
     * @param prefix the URL prefix, no trailing slash ({@code /cgi-bin})
     * @param root   the folder's real path
     */
    public record Folder(String prefix, Path root) {
    }

    public ScriptFolders {
        folders = List.copyOf(folders);
        if (folders.isEmpty()) {
            throw new IllegalArgumentException("no scripts folder");
        }
    }

    /** The scripts folder (option scripts). */
    public Path primary() {
        return folders.get(0).root();
    }

    public List<Path> roots() {
        return folders.stream().map(Folder::root).toList();
    }

    /** The folder holding {@code script} (a real path); the scripts folder when none does. */
    public Folder of(Path script) {
        return folders.stream().filter(f -> script.startsWith(f.root())).findFirst().orElse(folders.get(0));
    }

    /** The name statistics, metrics and logs know {@code script} (a real path) by. */
    public String name(Path script) {
        Folder f = of(script);
        String relative = f.root().relativize(script).toString();
        return f == folders.get(0) ? relative : f.prefix() + "/" + relative;
    }
}
