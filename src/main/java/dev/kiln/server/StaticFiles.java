package dev.kiln.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.eclipse.jetty.ee10.servlet.ResourceServlet;
import org.eclipse.jetty.ee10.servlet.ServletHolder;

import dev.kiln.cgi.ErrorPage;
import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.web.ForwardedPrefix;

/**
 * A folder served as static files at a URL prefix (option static, Apache's Alias) by Jetty's own resource
 * handling: content types, Range, ETag and Last-Modified, HEAD; a folder's index.html, no folder listings. Jetty's
 * alias check follows a symlink only to a target inside the folder; hidden names ({@code .htaccess}, {@code .git})
 * are not admitted to exist, as in the scripts folder.
 */
final class StaticFiles extends ResourceServlet {
    private static final long serialVersionUID = 1L;
    private final transient Path root;

    private StaticFiles(Path root) {
        this.root = root;
    }

    /**
     * The servlet of one static prefix. A static folder that holds a scripts folder, or lies inside one, is refused
     * here, at start, rather than file by file per request: such a configuration would serve scripts' sources
     * (and the secrets in them) as text, and is wrong as a whole; refused at start it is fixed before anything is
     * served, and since the folders are then disjoint and symlinks cannot leave a static folder, no request can
     * reach a script's file, whatever its path.
     *
     * @param scriptFolders the real paths of every scripts folder
     */
    static ServletHolder holder(KilnConfig.Alias alias, List<Path> scriptFolders) {
        Path folder = alias.folder().toAbsolutePath().normalize();
        Path real;
        try {
            real = folder.toRealPath();
        } catch (IOException e) {
            throw new ConfigException("static folder " + folder + " (for " + alias.prefix() + "/) does not exist; "
                    + "fix: create it, or correct the static option");
        }
        if (!Files.isDirectory(real)) {
            throw new ConfigException("static " + alias.prefix() + "/=" + folder + " names a file, not a folder; "
                    + "fix: give the folder that holds it");
        }
        for (Path scripts : scriptFolders) {
            if (real.startsWith(scripts) || scripts.startsWith(real)) {
                throw new ConfigException("static folder " + real + " (for " + alias.prefix() + "/) "
                        + (real.startsWith(scripts) ? "is inside" : "holds") + " the scripts folder " + scripts
                        + ", whose sources it would serve as files; fix: keep static files in a folder of their "
                        + "own, outside every scripts folder");
            }
        }
        ServletHolder holder = new ServletHolder("static " + alias.prefix(), new StaticFiles(real));
        holder.setInitParameter("baseResource", real.toUri().toString());
        holder.setInitParameter("pathInfoOnly", "true");
        holder.setInitParameter("dirAllowed", "false");
        holder.setInitParameter("acceptRanges", "true");
        holder.setInitParameter("etags", "true");
        holder.setInitParameter("welcomeServlets", "false");
        holder.setInitParameter("redirectWelcome", "false");
        return holder;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
        String path = req.getPathInfo();
        if (hidden(path)) {
            ErrorPage.send(resp, 404, req.getRequestURI());
            return;
        }
        if (path == null || !path.endsWith("/") && isFolder(path.substring(1))) {
            // Jetty would redirect too, to a path without the prefix a trusted proxy mounts Kiln under
            resp.setStatus(HttpServletResponse.SC_FOUND);
            resp.setHeader("Location", ForwardedPrefix.of(req) + req.getRequestURI() + "/");
            return;
        }
        super.service(req, resp);
    }

    private boolean isFolder(String relative) {
        try {
            Path real = root.resolve(relative).toRealPath();
            return real.startsWith(root) && Files.isDirectory(real);
        } catch (IOException | InvalidPathException e) {
            return false;
        }
    }

    /** Whether a segment of the decoded path is hidden ({@code .name}), or a dot segment a proxy let through. */
    private static boolean hidden(String path) {
        return path != null && (path.startsWith(".") || path.contains("/.") || path.indexOf('\\') >= 0);
    }
}
