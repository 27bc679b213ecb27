package dev.kiln.cgi;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import jakarta.servlet.http.HttpServletRequest;

import dev.kiln.run.EnvironmentBytes;

/**
 * Builds a script's environment from scratch (RFC 3875 section 4.1, plus what scripts written for Apache
 * expect). Nothing of Kiln's own environment gets in except the names the operator chose to pass.
 */
public final class CgiEnvironment {
    /** Headers that never become variables: httpoxy (CVE-2016-5388), and what CONTENT_* already carry. */
    private static final List<String> NEVER = List.of("PROXY", "CONTENT_TYPE", "CONTENT_LENGTH");
    /** What {@link #build} sets for every request, whatever the base variables say. */
    public static final Set<String> REQUEST_VARIABLES = Set.of("GATEWAY_INTERFACE", "SERVER_SOFTWARE", "SERVER_NAME",
            "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_ADDR", "REQUEST_METHOD", "REQUEST_SCHEME", "REQUEST_URI",
            "SCRIPT_NAME", "SCRIPT_FILENAME", "DOCUMENT_ROOT", "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR",
            "REMOTE_HOST", "REMOTE_PORT");
    /** Header names that may become HTTP_* variables (Apache's http2env). */
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z0-9-]+");

    private volatile Map<String, String> base;
    private final String documentRoot;
    private final boolean passAuthorization;
    private final Pattern headerFilter;
    private final String serverSoftware;

    /**
     * @param base              the variables every script gets: see {@link #base(Collection, Map, Map)}
     * @param documentRoot      DOCUMENT_ROOT, and the root PATH_TRANSLATED maps PATH_INFO onto
     * @param passAuthorization whether Authorization becomes HTTP_AUTHORIZATION (Apache's CGIPassAuth)
     * @param headerFilter      when non-null, only headers whose names match it become HTTP_* variables
     */
    public CgiEnvironment(Map<String, String> base, String documentRoot, boolean passAuthorization,
                          Pattern headerFilter, String serverSoftware) {
        this.base = Map.copyOf(base);
        this.documentRoot = documentRoot;
        this.passAuthorization = passAuthorization;
        this.headerFilter = headerFilter;
        this.serverSoftware = serverSoftware;
    }

    /**
     * The variables every script starts from: the ones passed through from Kiln's own environment
     * ({@code *} for all), then the configured ones. An inherited {@code PYTHONDONTWRITEBYTECODE} never gets
     * through: Kiln decides about bytecode.
     */
    public static Map<String, String> base(Collection<String> passEnv, Map<String, String> configured,
                                           Map<String, String> hostEnv) {
        Map<String, String> env = new LinkedHashMap<>();
        if (passEnv.contains("*")) {
            env.putAll(hostEnv);
        } else {
            for (String name : passEnv) {
                String v = hostEnv.get(name);
                if (v != null) {
                    env.put(name, v);
                }
            }
        }
        env.remove("PYTHONDONTWRITEBYTECODE");
        env.putAll(configured);
        return env;
    }

    /** New base variables (a reload of env or pass-env), for scripts started from now on. */
    public void rebase(Map<String, String> next) {
        this.base = Map.copyOf(next);
    }

    /** The base variables, for helpers that run as scripts do (interpreter probes, the precompiler). */
    public Map<String, String> base() {
        return base;
    }

    /**
     * The complete environment for one request: the base variables, the request's meta-variables, then what
     * the launcher adds (a null value removes a variable). This is the only place a script's environment is
     * assembled.
     *
     * @param scriptName    SCRIPT_NAME: the URL path of the script (context, servlet path and script segments)
     * @param contentLength the body length when it is known (for a spooled chunked body, the spooled size), or -1
     * @param launcher      the launcher's additions
     */
    public Map<String, String> build(HttpServletRequest req, ResolvedScript script, String scriptName,
                                     long contentLength, Map<String, String> launcher) {
        Map<String, String> env = new LinkedHashMap<>(64);
        env.putAll(base);
        env.put("GATEWAY_INTERFACE", "CGI/1.1");
        env.put("SERVER_SOFTWARE", serverSoftware);
        env.put("SERVER_NAME", req.getServerName());
        env.put("SERVER_PORT", Integer.toString(req.getServerPort()));
        env.put("SERVER_PROTOCOL", req.getProtocol());
        env.put("SERVER_ADDR", nz(req.getLocalAddr()));
        env.put("REQUEST_METHOD", req.getMethod());
        env.put("REQUEST_SCHEME", req.getScheme());
        if (req.isSecure()) {
            env.put("HTTPS", "on");
        }
        env.put("REQUEST_URI", requestUri(req));
        env.put("SCRIPT_NAME", scriptName);
        env.put("SCRIPT_FILENAME", script.file().toString());
        env.put("DOCUMENT_ROOT", documentRoot);
        env.put("PATH_INFO", script.pathInfo());
        if (!script.pathInfo().isEmpty()) {
            // RFC 3875 4.1.6: the path info mapped onto the document tree; like Apache, relative to the root
            env.put("PATH_TRANSLATED", documentRoot + script.pathInfo());
        }
        String queryString = req.getQueryString(); // for a local redirect, the Location's
        env.put("QUERY_STRING", queryString == null ? "" : queryString);
        env.put("REMOTE_ADDR", nz(req.getRemoteAddr()));
        env.put("REMOTE_HOST", nz(req.getRemoteHost()));
        env.put("REMOTE_PORT", Integer.toString(req.getRemotePort()));
        if (req.getAuthType() != null && req.getRemoteUser() != null) {
            env.put("AUTH_TYPE", req.getAuthType());
            env.put("REMOTE_USER", req.getRemoteUser());
        }
        if (contentLength >= 0) {
            env.put("CONTENT_LENGTH", Long.toString(contentLength));
        }
        String contentType = req.getContentType();
        if (contentType != null) {
            env.put("CONTENT_TYPE", contentType);
        }
        addHeaders(req, env);
        if (req.getAttribute(RequestId.ATTRIBUTE) instanceof String id) {
            env.put("UNIQUE_ID", id);
        }
        launcher.forEach((name, value) -> {
            if (value == null) {
                env.remove(name);
            } else {
                env.put(name, value);
            }
        });
        return env;
    }

    private void addHeaders(HttpServletRequest req, Map<String, String> env) {
        Enumeration<String> names = req.getHeaderNames();
        if (names == null) {
            return;
        }
        for (String name : Collections.list(names)) {
            if (!ENV_NAME.matcher(name).matches()) {
                continue; // Apache's http2env: '_' would collide with its '-' twin, others are no shell names
            }
            String var = name.toUpperCase(Locale.ROOT).replace('-', '_');
            if (NEVER.contains(var) || (var.equals("AUTHORIZATION") && !passAuthorization)) {
                continue;
            }
            if (headerFilter != null && !headerFilter.matcher(name).matches()) {
                continue;
            }
            String separator = var.equals("COOKIE") ? "; " : ", ";
            List<String> values = new ArrayList<>();
            for (String v : Collections.list(req.getHeaders(name))) {
                values.add(exactBytes(v));
            }
            String joined = String.join(separator, values);
            env.merge("HTTP_" + var, joined, (a, b) -> a + separator + b);
        }
    }

    /**
     * The container hands header values over as ISO-8859-1, one char per byte as sent; the script gets those
     * bytes, not their re-encoding (Apache passes bytes as sent).
     */
    private static String exactBytes(String latin1) {
        for (int i = 0; i < latin1.length(); i++) {
            if (latin1.charAt(i) > 0x7f) {
                return latin1.chars().allMatch(c -> c <= 0xff)
                        ? EnvironmentBytes.decode(latin1.getBytes(StandardCharsets.ISO_8859_1)) : latin1;
            }
        }
        return latin1;
    }

    private static String requestUri(HttpServletRequest req) {
        String uri = req.getRequestURI();
        String q = req.getQueryString();
        return q == null ? uri : uri + "?" + q;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
