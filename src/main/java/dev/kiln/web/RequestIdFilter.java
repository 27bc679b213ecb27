package dev.kiln.web;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.MDC;

import dev.kiln.cgi.RequestId;

/**
 * Gives every request its id ({@link RequestId}) before anything else sees it: a request attribute, the
 * {@code X-Request-Id} response header (which the access log prints), and the logging context for the lines
 * logged while it is served. In a WAR it reads the option {@code trust-request-id} from the environment, else its
 * init-param.
 */
public class RequestIdFilter extends HttpFilter {
    private transient RequestId ids;

    /** For a WAR: the container calls {@link #init()}. */
    public RequestIdFilter() {
    }

    /** For the standalone server. */
    public RequestIdFilter(boolean trustIncoming) {
        this.ids = new RequestId(trustIncoming);
    }

    @Override
    public void init() {
        if (ids == null) {
            ids = new RequestId(WarConfig.trustRequestId(getFilterConfig()));
        }
    }

    @Override
    protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        String id = ids.assign(req.getHeader(RequestId.HEADER));
        req.setAttribute(RequestId.ATTRIBUTE, id);
        resp.setHeader(RequestId.HEADER, id);
        MDC.put(RequestId.LOG_KEY, id);
        try {
            chain.doFilter(req, resp);
        } finally {
            MDC.remove(RequestId.LOG_KEY);
        }
    }
}
