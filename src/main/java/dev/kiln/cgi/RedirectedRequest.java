package dev.kiln.cgi;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

/** The original request turned into a body-less GET for a local redirect (RFC 3875 6.2.2). */
final class RedirectedRequest extends HttpServletRequestWrapper {
    private final String query;

    RedirectedRequest(HttpServletRequest req, String query) {
        super(req);
        this.query = query;
    }

    @Override
    public String getMethod() {
        return "GET";
    }

    @Override
    public String getQueryString() {
        return query;
    }

    @Override
    public long getContentLengthLong() {
        return -1;
    }

    @Override
    public int getContentLength() {
        return -1;
    }

    @Override
    public String getContentType() {
        return null;
    }

    @Override
    public String getHeader(String name) {
        return dropped(name) ? null : super.getHeader(name);
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
        return dropped(name) ? Collections.emptyEnumeration() : super.getHeaders(name);
    }

    @Override
    public Enumeration<String> getHeaderNames() {
        List<String> names = new ArrayList<>();
        for (String n : Collections.list(super.getHeaderNames())) {
            if (!dropped(n)) {
                names.add(n);
            }
        }
        return Collections.enumeration(names);
    }

    @Override
    public ServletInputStream getInputStream() {
        return new ServletInputStream() {
            @Override
            public boolean isFinished() {
                return true;
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setReadListener(ReadListener l) {
                throw new IllegalStateException("not async");
            }

            @Override
            public int read() {
                return -1;
            }
        };
    }

    private static boolean dropped(String header) {
        String h = header.toLowerCase(Locale.ROOT);
        return h.equals("content-length") || h.equals("content-type") || h.equals("transfer-encoding");
    }
}
