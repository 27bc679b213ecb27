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
        Path root = k.host().settings().resolver().root();
        LibraryFiles library = k.host().settings().planner().library();
        List<String> scripts;
        try (Stream<Path> files = Files.walk(root, 3)) {
            scripts = files.filter(Files::isRegularFile)
                    .filter(p -> listed(root, p) && library.why(p).isEmpty())
                    .map(p -> root.relativize(p).toString())
                    .sorted()
                    .limit(500)
                    .toList();
        }
        String base = req.getContextPath() + "/cgi-bin/";
        StringBuilder b = new StringBuilder(2048);
        b.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Kiln</title>\n")
                .append("<style>body{font-family:sans-serif;max-width:42em;margin:2em auto}li{margin:.3em 0}"
                        + "code{color:#555}</style></head><body>\n")
                .append("<h1>Kiln</h1>\n<p>CGI scripts in <code>").append(ErrorPage.escape(root.toString()))
                .append("</code>:</p>\n<ul>\n");
        for (String s : scripts) {
            String href = base + s;
            b.append("<li><a href=\"").append(ErrorPage.escape(href)).append("\">").append(ErrorPage.escape(s))
                    .append("</a></li>\n");
        }
        b.append("</ul>\n");
        if (StatusServlet.readableBy(k.config().operations().status(), req.getRemoteAddr())) {
            b.append("<p><a href=\"").append(ErrorPage.escape(req.getContextPath()))
                    .append("/kiln/status\">Cache status</a> (JSON)</p>\n");
        }
        b.append("</body></html>\n");
        byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
        resp.setContentType("text/html;charset=utf-8");
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
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
