package dev.kiln.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.kiln.Kiln;
import dev.kiln.cache.CacheMode;

/**
 * {@code /kiln/health} (liveness: 200 while Kiln answers at all) and {@code /kiln/ready} (readiness: 503 while
 * the cache is unusable, Kiln is stopping, or every script slot is taken), for load balancers and Kubernetes
 * probes. Open to every client: they say nothing about folders or scripts.
 */
public class HealthServlet extends KilnServlet {
    /** For a WAR: finds the Kiln the CGI servlet built. */
    public HealthServlet() {
        super(null);
    }

    public HealthServlet(Kiln kiln) {
        super(kiln);
    }

    @Override
    void get(Kiln k, HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (!req.getRequestURI().endsWith("/ready")) {
            send(resp, 200, "application/json", "{\"status\": \"up\"}\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        List<String> reasons = notReady(k);
        StringBuilder b = new StringBuilder("{\"ready\": ").append(reasons.isEmpty()).append(", \"reasons\": [");
        for (int i = 0; i < reasons.size(); i++) {
            b.append(i > 0 ? ", " : "").append(Json.string(reasons.get(i)));
        }
        b.append("]}\n");
        send(resp, reasons.isEmpty() ? 200 : 503, "application/json", b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Why Kiln should get no traffic now; empty when it should. */
    static List<String> notReady(Kiln k) {
        List<String> reasons = new ArrayList<>();
        if (k.stopping()) {
            reasons.add("stopping");
        }
        if (k.cache().mode() == CacheMode.OFF) {
            reasons.add("cache unusable: " + k.cache().lastError());
        }
        if (k.host().settings().limiter().full()) {
            reasons.add("every script slot is taken");
        }
        return reasons;
    }
}
