package dev.kiln.cgi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import jakarta.servlet.ReadListener;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.run.Launch;
import dev.kiln.run.RunLimiter;
import dev.kiln.run.ScriptProcess;
import dev.kiln.run.ScriptRunner;

/**
 * Runs one CGI/1.1 script per request (RFC 3875), like Go's {@code net/http/cgi.Handler}: resolve the script,
 * build its environment, stream the body in and the output out, turn its header block into the HTTP response.
 * Servlets are thin glue around {@link #serve}.
 */
public final class CgiHost {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.cgi");
    private static final String REDIRECTS = "dev.kiln.localRedirects";
    private static final int MAX_LOCAL_REDIRECTS = 8;
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "transfer-encoding", "keep-alive",
            "upgrade", "proxy-connection", "te", "trailer");

    /**
     * What a host needs; each field is one documented option (see {@code dev.kiln.config.Option}).
     *
     * @param resolver      maps URL paths to scripts inside the scripts folder
     * @param environment   builds each request's environment from scratch
     * @param planner       decides each script's command line (shebang, Python runner, refusals)
     * @param runner        starts scripts and enforces timeouts
     * @param limiter       bounds concurrent scripts and the wait queue
     * @param spoolDir      where chunked request bodies are spooled
     * @param maxBody       largest request body, bytes (413 above it)
     * @param maxHeaderSize largest CGI header block, bytes (502 above it)
     * @param methods       allowed methods (empty: all)
     * @param cmdLineArgs   RFC 3875 4.4 command-line words from a query string without '='
     */
    public record Settings(ScriptResolver resolver, CgiEnvironment environment, CommandPlanner planner,
                           ScriptRunner runner, RunLimiter limiter, Path spoolDir, long maxBody,
                           int maxHeaderSize, Set<String> methods, boolean cmdLineArgs) {
    }

    private final Settings s;

    public CgiHost(Settings settings) {
        this.s = settings;
    }

    public Settings settings() {
        return s;
    }

    /**
     * Serves one request. {@code req.getPathInfo()} is the path below the CGI mapping ({@code /app.py/extra}).
     */
    public void serve(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        String requestPath = req.getRequestURI();
        String method = req.getMethod();
        if (!s.methods().isEmpty() && !s.methods().contains(method)) {
            resp.setHeader("Allow", String.join(", ", s.methods()));
            ErrorPage.send(resp, 405, requestPath);
            return;
        }
        ScriptResolver.Result found = s.resolver().resolve(req.getPathInfo());
        if (found.script() == null) {
            LOG.info("{} {}: {} ({})", method, requestPath, found.refusal().status, found.reason());
            ErrorPage.send(resp, found.refusal().status, requestPath);
            return;
        }
        ResolvedScript script = found.script();
        CommandPlanner.Plan plan = s.planner().plan(script.file(), commandLineArgs(req.getQueryString()));
        if (plan.refused()) {
            LOG.warn("{} {}: {}, {} will not run: {}", method, requestPath, plan.status(), script.file(),
                    plan.refusal());
            ErrorPage.send(resp, plan.status(), requestPath);
            return;
        }
        long declared = req.getContentLengthLong();
        if (declared > s.maxBody()) {
            LOG.warn("{} {}: 413, body of {} bytes is over max-body {}; fix: raise max-body if this is expected",
                    method, requestPath, declared, s.maxBody());
            ErrorPage.send(resp, 413, requestPath);
            return;
        }
        RequestBody body = RequestBody.of(req, s.spoolDir(), s.maxBody());
        try {
            if (body.tooLarge()) {
                LOG.warn("{} {}: 413, chunked body over max-body {}; fix: raise max-body if this is expected",
                        method, requestPath, s.maxBody());
                ErrorPage.send(resp, 413, requestPath);
                return;
            }
            boolean admitted;
            try {
                admitted = s.limiter().acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                admitted = false;
            }
            if (!admitted) {
                LOG.warn("{} {}: 503, {} scripts running and {} waiting; fix: raise max-concurrent or max-queued, "
                        + "or add capacity", method, requestPath, s.limiter().running(), s.limiter().waiting());
                resp.setHeader("Retry-After", Long.toString(s.limiter().retryAfterSeconds()));
                ErrorPage.send(resp, 503, requestPath);
                return;
            }
            String redirect;
            try {
                redirect = run(req, resp, script, plan, body);
            } finally {
                s.limiter().release();
            }
            if (redirect != null) {
                // the slot is free again: a chain of local redirects holds one slot at a time
                localRedirect(req, resp, redirect);
            }
        } finally {
            body.close();
        }
    }

    /** Runs the script and answers; returns the target of a local redirect instead, for the caller to follow. */
    private String run(HttpServletRequest req, HttpServletResponse resp, ResolvedScript script,
                       CommandPlanner.Plan plan, RequestBody body) throws IOException {
        String requestPath = req.getRequestURI();
        String scriptName = req.getContextPath() + nz(req.getServletPath()) + script.scriptPath();
        Map<String, String> env = s.environment().build(req, script, scriptName,
                s.resolver().root().toString(), body.length(), req.getQueryString());
        plan.env().forEach((k, v) -> {
            if (v == null) {
                env.remove(k);
            } else {
                env.put(k, v);
            }
        });
        String logName = "kiln.script" + (script.scriptPath().startsWith("/") ? "." : "")
                + script.scriptPath().substring(1);
        Launch launch = new Launch(plan.argv(), env, script.file().getParent(), logName, plan.ownSession());
        ScriptProcess proc;
        try {
            proc = s.runner().start(launch, plan.sink());
        } catch (IOException e) {
            LOG.error("{} {}: 500, cannot start {}: {}; fix: check that the interpreter exists and is executable",
                    req.getMethod(), requestPath, String.join(" ", plan.argv()), e.getMessage());
            ErrorPage.send(resp, 500, requestPath);
            return null;
        }
        try (proc) {
            proc.feedStdin(body.stream());
            CgiResponseHead head;
            try {
                head = CgiResponseHead.read(proc.stdout(), s.maxHeaderSize());
            } catch (CgiResponseHead.IncompleteException e) {
                failBeforeHeaders(req, resp, proc, e.bytesRead());
                return null;
            } catch (CgiResponseHead.MalformedException e) {
                proc.stop(ScriptProcess.Stop.CLIENT_GONE);
                LOG.warn("{} {}: 502, malformed header block from {}: {}: \"{}\"", req.getMethod(), requestPath,
                        script.file(), e.getMessage(), e.line());
                ErrorPage.send(resp, 502, requestPath);
                return null;
            }
            if (head.location() != null && head.status() == 0 && head.location().startsWith("/")
                    && !head.location().startsWith("//")) {
                drain(proc.stdout());
                awaitExit(req, proc);
                return head.location();
            }
            respond(req, resp, proc, head);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            proc.stop(ScriptProcess.Stop.SERVER_STOPPING);
        } finally {
            discardUnreadBody(proc, body);
        }
        return null;
    }

    /**
     * A script may answer without reading its whole body. The rest is read and dropped (it is at most max-body),
     * so a client still uploading gets the response instead of a connection reset. Runs after the script is
     * closed, when the body pump has let go of the request stream.
     */
    private static void discardUnreadBody(ScriptProcess proc, RequestBody body) {
        if (!proc.stdinBrokenByScript() || body.stream() == null) {
            return;
        }
        byte[] buf = new byte[16 * 1024];
        try {
            while (body.stream().read(buf) >= 0) {
                // dropped
            }
        } catch (IOException clientGone) {
            // nothing left to save
        }
    }

    private void failBeforeHeaders(HttpServletRequest req, HttpServletResponse resp, ScriptProcess proc,
                                   int bytesRead) throws IOException, InterruptedException {
        int exit = proc.awaitExit();
        ScriptProcess.Stop stop = proc.stopReason();
        String requestPath = req.getRequestURI();
        if (stop == ScriptProcess.Stop.IDLE_TIMEOUT || stop == ScriptProcess.Stop.TOTAL_TIMEOUT) {
            LOG.warn("{} {}: 504, killed after {} ms: {}; fix: make the script answer sooner, or raise "
                    + "timeout/idle-timeout", req.getMethod(), requestPath, proc.elapsedMillis(),
                    ScriptProcess.describe(stop));
            ErrorPage.send(resp, 504, requestPath);
            return;
        }
        if (stop == ScriptProcess.Stop.CLIENT_GONE) {
            return;
        }
        List<String> tail = proc.stderrTail();
        LOG.warn("{} {}: 500, script exited with status {} before sending its headers ({} bytes of output); "
                        + "stderr tail: {}", req.getMethod(), requestPath, exit, bytesRead,
                tail.isEmpty() ? "(empty)" : String.join(" | ", tail));
        ErrorPage.send(resp, 500, requestPath);
    }

    private void respond(HttpServletRequest req, HttpServletResponse resp, ScriptProcess proc,
                         CgiResponseHead head) throws IOException, InterruptedException {
        int status = head.status();
        if (status == 0) {
            status = head.location() != null ? 302 : 200;
        }
        resp.setStatus(status);
        for (CgiResponseHead.Header h : head.headers()) {
            String lower = h.name().toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(lower)) {
                continue;
            }
            switch (lower) {
                case "content-type" -> resp.setContentType(h.value());
                case "content-length" -> {
                    try {
                        resp.setContentLengthLong(Long.parseLong(h.value()));
                    } catch (NumberFormatException e) {
                        LOG.warn("{} {}: ignoring bad Content-Length from script: \"{}\"", req.getMethod(),
                                req.getRequestURI(), h.value());
                    }
                }
                default -> resp.addHeader(h.name(), h.value());
            }
        }
        boolean headRequest = "HEAD".equals(req.getMethod());
        InputStream out = proc.stdout();
        long sent = 0;
        try {
            OutputStream client = resp.getOutputStream();
            if (!headRequest && head.body().length > 0) {
                client.write(head.body());
                sent += head.body().length;
            }
            if (out.available() == 0) {
                client.flush(); // headers (and the first bytes) reach the client now, not at the end
            }
            byte[] buf = new byte[16 * 1024];
            int n;
            while ((n = out.read(buf)) >= 0) {
                if (headRequest) {
                    continue;
                }
                client.write(buf, 0, n);
                sent += n;
                if (out.available() == 0) {
                    client.flush();
                }
            }
        } catch (IOException clientGone) {
            if (proc.stopReason() == null) {
                proc.stop(ScriptProcess.Stop.CLIENT_GONE);
                LOG.info("{} {}: client went away after {} bytes; script stopped", req.getMethod(),
                        req.getRequestURI(), sent);
            }
            return;
        }
        int exit = proc.awaitExit();
        ScriptProcess.Stop stop = proc.stopReason();
        if (stop != null && stop != ScriptProcess.Stop.CLIENT_GONE) {
            LOG.warn("{} {}: response cut after {} bytes, killed after {} ms: {}; fix: raise timeout/idle-timeout "
                    + "if the script needs longer", req.getMethod(), req.getRequestURI(), sent,
                    proc.elapsedMillis(), ScriptProcess.describe(stop));
            throw new IOException("script stopped before finishing its response");
        }
        if (exit != 0) {
            LOG.info("{} {}: script exited with status {} after sending its response", req.getMethod(),
                    req.getRequestURI(), exit);
        }
    }

    private static void awaitExit(HttpServletRequest req, ScriptProcess proc) throws InterruptedException {
        int exit = proc.awaitExit();
        if (exit != 0) {
            LOG.info("{} {}: script exited with status {}", req.getMethod(), req.getRequestURI(), exit);
        }
    }

    /** RFC 3875 6.2.2: a local path in Location, without Status, is served by the server as a GET. */
    private void localRedirect(HttpServletRequest req, HttpServletResponse resp, String location)
            throws IOException, ServletException {
        Object seen = req.getAttribute(REDIRECTS);
        int depth = seen instanceof Integer i ? i : 0;
        if (depth >= MAX_LOCAL_REDIRECTS) {
            LOG.warn("{} {}: 500, more than {} local redirects in a row (last to {}); fix: break the loop",
                    req.getMethod(), req.getRequestURI(), MAX_LOCAL_REDIRECTS, location);
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
        String target = q < 0 ? path : path.substring(0, q);
        req.setAttribute(REDIRECTS, depth + 1);
        RequestDispatcher dispatcher = req.getRequestDispatcher(path);
        if (dispatcher == null) {
            ErrorPage.send(resp, 404, location);
            return;
        }
        LOG.debug("{} {}: local redirect to {}", req.getMethod(), req.getRequestURI(), target);
        dispatcher.forward(new RedirectedRequest(req, query), resp);
    }

    private List<String> commandLineArgs(String query) {
        if (!s.cmdLineArgs() || query == null || query.isEmpty() || query.indexOf('=') >= 0) {
            return List.of();
        }
        List<String> args = new ArrayList<>();
        for (String word : query.split("\\+")) {
            String decoded = URLDecoder.decode(word.replace("+", "%2B"), StandardCharsets.UTF_8);
            if (!decoded.isEmpty()) {
                args.add(decoded);
            }
        }
        return args;
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[8192];
        while (in.read(buf) >= 0) {
            // a local redirect has no body; discard whatever the script sent
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    /** The original request turned into a body-less GET for a local redirect. */
    private static final class RedirectedRequest extends HttpServletRequestWrapper {
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
            return dropped(name) ? java.util.Collections.emptyEnumeration() : super.getHeaders(name);
        }

        @Override
        public Enumeration<String> getHeaderNames() {
            List<String> names = new ArrayList<>();
            for (String n : java.util.Collections.list(super.getHeaderNames())) {
                if (!dropped(n)) {
                    names.add(n);
                }
            }
            return java.util.Collections.enumeration(names);
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
}
