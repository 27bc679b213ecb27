package dev.kiln.web;

import java.util.regex.Pattern;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The URL prefix under which a trusted proxy mounts Kiln ({@code X-Forwarded-Prefix: /apps/kiln}), so the links
 * Kiln builds itself (the index page, the status page) work through it. Only the standalone server's trusted-proxies
 * customizer sets it; a client's own header never counts. Scripts' SCRIPT_NAME keeps the path Kiln was asked for
 * (RFC 3875; Apache's mod_proxy leaves it alone too): a script that builds links through the proxy reads
 * HTTP_X_FORWARDED_PREFIX itself.
 */
public final class ForwardedPrefix {
    /** The request attribute holding the prefix, when a trusted proxy sent one. */
    public static final String ATTRIBUTE = "dev.kiln.forwardedPrefix";
    public static final String HEADER = "X-Forwarded-Prefix";
    /** Plain path segments: nothing that could end an attribute, start a scheme or climb out of the prefix. */
    private static final Pattern PREFIX = Pattern.compile("(/(?!\\.{1,2}(/|$))[A-Za-z0-9._~%!$&()*+;=:@-]+)+");

    private ForwardedPrefix() {
    }

    /** The prefix a header value names, without trailing slash; empty when absent, {@code /}, or not a plain path. */
    public static String parse(String header) {
        if (header == null) {
            return "";
        }
        String v = header.trim();
        while (v.endsWith("/")) {
            v = v.substring(0, v.length() - 1);
        }
        return PREFIX.matcher(v).matches() ? v : "";
    }

    /** What the links Kiln builds start with: the proxy's prefix, then the context path. */
    public static String base(HttpServletRequest req) {
        return of(req) + req.getContextPath();
    }

    /** The proxy's prefix of this request, empty for none. */
    public static String of(HttpServletRequest req) {
        return req.getAttribute(ATTRIBUTE) instanceof String prefix ? prefix : "";
    }
}
