package dev.kiln.web;

import java.io.IOException;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.kiln.Kiln;
import dev.kiln.cgi.ErrorPage;

/**
 * A servlet that reads Kiln's state: handed the {@link Kiln} standalone, or finding the one {@link CgiServlet}
 * built in a WAR through the context attribute.
 */
abstract class KilnServlet extends HttpServlet {
    private final transient Kiln given;

    KilnServlet(Kiln given) {
        this.given = given;
    }

    @Override
    protected final void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Kiln k = given != null ? given : (Kiln) getServletContext().getAttribute(CgiServlet.ATTRIBUTE);
        if (k == null) {
            resp.sendError(503, "Kiln is not started");
            return;
        }
        get(k, req, resp);
    }

    abstract void get(Kiln kiln, HttpServletRequest req, HttpServletResponse resp) throws IOException;

    /** True when this client may read the status pages; otherwise answers 404, 403 or 401 and returns false. */
    static boolean admitted(Kiln k, HttpServletRequest req, HttpServletResponse resp) throws IOException {
        switch (StatusGate.check(k.config().operations(), req)) {
            case ALLOWED -> {
                return true;
            }
            case OFF -> ErrorPage.send(resp, 404, req.getRequestURI());
            case FORBIDDEN -> ErrorPage.send(resp, 403, req.getRequestURI());
            case CREDENTIALS -> {
                resp.setHeader("WWW-Authenticate", "Basic realm=\"Kiln status\", charset=\"UTF-8\"");
                ErrorPage.send(resp, 401, req.getRequestURI());
            }
        }
        return false;
    }

    /** Sends a complete body that must not be cached. */
    static void send(HttpServletResponse resp, int status, String contentType, byte[] body) throws IOException {
        resp.setStatus(status);
        resp.setContentType(contentType);
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }
}
