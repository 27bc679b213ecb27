package dev.kiln.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.kiln.Kiln;
import dev.kiln.cgi.ErrorPage;
import dev.kiln.cgi.LibraryFiles;
import dev.kiln.cgi.Route;

/**
 * {@code /}: a small page linking every script in the scripts folder (hidden files and folders left out), and
 * the status page when this client may read it.
 */
public class IndexServlet extends KilnServlet {
    /** For a WAR: finds the Kiln the CGI servlet built. */
    public IndexServlet() {
        super(null);
    }

    public IndexServlet(Kiln kiln) {
        super(kiln);
    }

    @Override
    void get(Kiln k, HttpServletRequest req, HttpServletResponse resp) throws IOException {
        boolean status = StatusGate.allowed(k.config().operations(), req);
        StringBuilder b = new StringBuilder(2048);
        b.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Kiln</title>\n")
                .append("<style>body{font-family:sans-serif;max-width:42em;margin:2em auto}li{margin:.3em 0}"
                        + "</style></head><body>\n<h1>Kiln</h1>\n");
        for (Route route : status && k.config().operations().listScripts() ? k.host().settings().routes()
                : List.<Route>of()) {
            List<String> scripts = scripts(route.resolver().root(), route.planner().library());
            if (scripts.isEmpty()) {
                continue;
            }
            String base = ForwardedPrefix.base(req) + route.prefix() + "/";
            b.append("<p>CGI scripts under ").append(ErrorPage.escape(base)).append(":</p>\n<ul>\n");
            for (String s : scripts) {
                b.append("<li><a href=\"").append(ErrorPage.escape(base + s)).append("\">")
                        .append(ErrorPage.escape(s)).append("</a></li>\n");
            }
            b.append("</ul>\n");
        }
        if (status) {
            b.append("<p><a href=\"").append(ErrorPage.escape(ForwardedPrefix.base(req)))
                    .append("/kiln/\">Status</a></p>\n");
        }
        b.append("</body></html>\n");
        send(resp, 200, "text/html;charset=utf-8", b.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> scripts(Path root, LibraryFiles library) throws IOException {
        try (Stream<Path> files = Files.walk(root, 3)) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> listed(root, p) && library.why(p).isEmpty())
                    .map(p -> root.relativize(p).toString())
                    .sorted()
                    .limit(500)
                    .toList();
        }
    }

    /** Runnable-looking files only: no hidden parts, no text files (and no library files, see above). */
    private static boolean listed(Path root, Path file) {
        for (Path part : root.relativize(file)) {
            String name = part.toString();
            if (name.startsWith(".") || name.equals("__pycache__")) {
                return false;
            }
        }
        String name = file.getFileName().toString();
        return !name.endsWith(".txt") && !name.endsWith(".md");
    }
}
