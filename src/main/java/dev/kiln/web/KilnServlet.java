package dev.kiln.web;

import java.io.IOException;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.kiln.Kiln;

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
}
