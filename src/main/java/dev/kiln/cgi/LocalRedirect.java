package dev.kiln.cgi;

import java.io.IOException;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RFC 3875 6.2.2: a local path in Location, without Status, is served by the server itself as a GET. A chain
 * is followed up to a limit; a target outside this application is refused.
 */
final class LocalRedirect {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.cgi");
    private static final String DEPTH = "dev.kiln.localRedirects";
    private static final int MAX_DEPTH = 8;

    private LocalRedirect() {
    }

    /** Whether a script's head asks for a local redirect. */
    static boolean requested(CgiResponseHead head) {
        String location = head.location();
        return location != null && head.status() == 0 && location.startsWith("/") && !location.startsWith("//");
    }

    /** Serves {@code location} in place of the original request. */
    static void follow(HttpServletRequest req, HttpServletResponse resp, String location)
            throws IOException, ServletException {
        Object seen = req.getAttribute(DEPTH);
        int depth = seen instanceof Integer i ? i : 0;
        if (depth >= MAX_DEPTH) {
            LOG.warn("{} {}: 500, more than {} local redirects in a row (last to {}); fix: break the loop",
                    req.getMethod(), req.getRequestURI(), MAX_DEPTH, location);
            ErrorPage.send(resp, 500, req.getRequestURI());
            return;
        }
        String path = location;
        String context = req.getContextPath();
        if (!context.isEmpty()) {
            if (!path.startsWith(context + "/")) {
                LOG.warn("{} {}: 502, local redirect to {} leaves this application ({}); fix: send an absolute URL",
                        req.getMethod(), req.getRequestURI(), location, context);
                ErrorPage.send(resp, 502, req.getRequestURI());
                return;
            }
            path = path.substring(context.length());
        }
        int q = path.indexOf('?');
        String query = q < 0 ? null : path.substring(q + 1);
        req.setAttribute(DEPTH, depth + 1);
        RequestDispatcher dispatcher = req.getRequestDispatcher(path);
        if (dispatcher == null) {
            ErrorPage.send(resp, 404, location);
            return;
        }
        LOG.debug("{} {}: local redirect to {}", req.getMethod(), req.getRequestURI(),
                q < 0 ? path : path.substring(0, q));
        dispatcher.forward(new RedirectedRequest(req, query), resp);
    }
}
