package dev.kiln.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.kiln.Kiln;

/**
 * {@code GET /kiln/metrics}: every metric in the Prometheus text format, or OpenMetrics when the scraper's
 * Accept header asks for it. Readable by the clients that may read the status (a scraper sends the token).
 */
public class MetricsServlet extends KilnServlet {
    /** For a WAR: finds the Kiln the CGI servlet built. */
    public MetricsServlet() {
        super(null);
    }

    public MetricsServlet(Kiln kiln) {
        super(kiln);
    }

    @Override
    void get(Kiln k, HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (!admitted(k, req, resp)) {
            return;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        String type = k.metrics().write(req.getHeader("Accept"), out);
        send(resp, 200, type, out.toByteArray());
    }
}
