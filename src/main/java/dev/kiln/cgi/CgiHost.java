package dev.kiln.cgi;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.run.Launcher;
import dev.kiln.run.RunLimiter;
import dev.kiln.run.ScriptNotStartedException;
import dev.kiln.run.ScriptProcess;

/**
 * Runs one CGI/1.1 script per request (RFC 3875), like Go's {@code net/http/cgi.Handler}. {@link #serve} is the
 * whole life of a request, top to bottom; each step is one type: the {@link Route} of the URL prefix with its
 * {@link ScriptResolver} and {@link CommandPlanner},
 * {@link RunLimiter}, {@link CgiEnvironment}, the plan's {@link Launcher}, {@link CgiResponseHead},
 * {@link ScriptResponse} and {@link LocalRedirect}. The Jetty and Tomcat servlets are thin glue around it.
 */
public final class CgiHost {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.cgi");
    /** The request attribute naming the script a request ran (see {@link ScriptFolders#name}). */
    public static final String SCRIPT_ATTRIBUTE = "dev.kiln.script";

    /**
     * What a host needs; each field is one documented option (see {@code dev.kiln.config.Option}).
     *
     * @param routes        the URL prefixes of scripts, the scripts folder's /cgi-bin first: each maps URL paths
     *                      to scripts inside its folder and decides their launcher and command line
     * @param limiter       bounds concurrent scripts and the wait queue
     * @param environment   builds each request's environment from scratch
     * @param spool         where chunked request bodies and buffered responses spill to disk, and its bounds
     * @param responseBuffer bytes of a script's output held in memory before it spills to the spool
     * @param pace          how fast a request body must come (body-timeout, body-min-rate)
     * @param maxBody       largest request body, bytes (413 above it)
     * @param maxHeaderSize largest CGI header block, bytes (502 above it)
     * @param methods       allowed methods (empty: all)
     */
    public record Settings(List<Route> routes, RunLimiter limiter,
                           CgiEnvironment environment, Spool spool, int responseBuffer, BodyPace pace,
                           long maxBody, int maxHeaderSize, Set<String> methods) {
        public Settings {
            routes = List.copyOf(routes);
        }

        /** The route of a servlet path; the scripts folder's for a mapping no route names (a WAR's own). */
        public Route route(String servletPath) {
            return routes.stream().filter(r -> r.prefix().equals(servletPath)).findFirst().orElse(routes.get(0));
        }

        /** The route of the scripts folder, at /cgi-bin. */
        public Route scripts() {
            return routes.get(0);
        }
    }

    private final Settings s;
    private final RefusalLog refusals = new RefusalLog();

    public CgiHost(Settings settings) {
        this.s = settings;
    }

    public Settings settings() {
        return s;
    }

    /** Serves one request. {@code req.getPathInfo()} is the path below the CGI mapping ({@code /app.py/extra}). */
    public void serve(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        String method = req.getMethod();
        String requestPath = req.getRequestURI();
        // 1. method
        if (!s.methods().isEmpty() && !s.methods().contains(method)) {
            resp.setHeader("Allow", String.join(", ", s.methods()));
            ErrorPage.send(resp, 405, requestPath);
            return;
        }
        // 2. resolve the URL to a script inside the folder of its prefix (/cgi-bin/ or a script-alias)
        Route route = s.route(req.getServletPath());
        ScriptResolver.Result found = route.resolver().resolve(req.getPathInfo());
        if (found.script() == null) {
            LOG.info("{} {}: {} ({})", method, requestPath, found.refusal().status, found.reason());
            ErrorPage.send(resp, found.refusal().status, requestPath);
            return;
        }
        ResolvedScript script = found.script();
        req.setAttribute(SCRIPT_ATTRIBUTE, route == s.scripts() ? script.scriptPath().substring(1)
                : route.prefix() + script.scriptPath());
        // 3. plan: which launcher, which command
        Plan plan = route.planner().plan(script.file(), req.getQueryString());
        if (plan instanceof Plan.Refuse refused) {
            LOG.warn("{} {}: 403, {} will not run: {}", method, requestPath, script.file(), refused.why());
            ErrorPage.send(resp, 403, requestPath);
            return;
        }
        if (plan instanceof Plan.CannotStart broken) {
            LOG.warn("{} {}: 500, {} will not run: cannot start: {}", method, requestPath, script.file(),
                    broken.why());
            ErrorPage.send(resp, 500, requestPath);
            return;
        }
        Plan.Run run = (Plan.Run) plan;
        // 4. the request body: streamed, or spooled when chunked
        if (req.getContentLengthLong() > s.maxBody()) {
            LOG.warn("{} {}: 413, body of {} bytes is over max-body {}; fix: raise max-body if this is expected",
                    method, requestPath, req.getContentLengthLong(), s.maxBody());
            resp.setHeader("Connection", "close"); // the body is not read: this connection cannot go on
            ErrorPage.send(resp, 413, requestPath);
            return;
        }
        String redirect;
        try (RequestBody body = RequestBody.forScript(req, resp, s.spool(), s.maxBody(), s.pace())) {
            if (body == null) {
                return;
            }
            // 5. admit: a slot, or 503 once the queue is full or the wait too long
            RunLimiter.Slot slot = admit(req, resp);
            if (slot == null) {
                return;
            }
            // 6. environment, launch, header block, response; the slot is given back once the script is done
            redirect = runScript(req, resp, script, run, body, slot);
        }
        // 7. a local redirect is served with the slot free again: a chain holds one slot at a time
        if (redirect != null) {
            LocalRedirect.follow(req, resp, redirect);
        }
    }

    private RunLimiter.Slot admit(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        RunLimiter.Slot slot;
        try {
            slot = s.limiter().acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            slot = null;
        }
        if (slot == null) {
            String more = refusals.refused(System.nanoTime());
            if (more != null) {
                LOG.warn("{} {}: 503, {} scripts running and {} waiting; fix: raise max-concurrent or max-queued, "
                        + "or add capacity{}", req.getMethod(), req.getRequestURI(), s.limiter().running(),
                        s.limiter().waiting(), more);
            }
            resp.setHeader("Retry-After", Long.toString(s.limiter().retryAfterSeconds()));
            ErrorPage.send(resp, 503, req.getRequestURI());
        }
        return slot;
    }

    /** Runs the script and answers; returns the target of a local redirect instead, for the caller to follow. */
    private String runScript(HttpServletRequest req, HttpServletResponse resp, ResolvedScript script,
                             Plan.Run run, RequestBody body, RunLimiter.Slot slot) throws IOException {
        Launcher.Launch launch = run.launcher().prepare(run.command());
        String scriptName = req.getContextPath() + nz(req.getServletPath()) + script.scriptPath();
        Map<String, String> env = s.environment().build(req, script, scriptName, body.length(),
                launch.environment());
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} {}: running {} in {} with environment {}", req.getMethod(), req.getRequestURI(),
                    String.join(" ", run.command().argv()), script.file().getParent(), new TreeSet<>(env.keySet()));
        }
        ScriptProcess proc;
        try {
            proc = launch.start(env, script.file().getParent(), logName(script));
        } catch (ScriptNotStartedException e) {
            slot.close();
            LOG.warn("{} {}: 500, {}", req.getMethod(), req.getRequestURI(), e.getMessage());
            ErrorPage.send(resp, 500, req.getRequestURI());
            return null;
        } catch (IOException e) {
            slot.close();
            LOG.error("{} {}: 500, cannot start {}: {}; fix: check that the interpreter exists and is executable",
                    req.getMethod(), req.getRequestURI(), String.join(" ", run.command().argv()), e.getMessage());
            ErrorPage.send(resp, 500, req.getRequestURI());
            return null;
        }
        String redirect = null;
        boolean answered = false;
        OutputBuffer buffer = new OutputBuffer(s.spool(), s.responseBuffer());
        try (proc; slot) {
            proc.feedStdin(body.stream());
            redirect = answer(req, resp, script, proc, buffer, slot);
            answered = redirect == null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            proc.stop(ScriptProcess.Stop.SERVER_STOPPING);
        } finally {
            buffer.abandon();
            afterScript(req, resp, proc, body, answered);
        }
        return redirect;
    }

    private String answer(HttpServletRequest req, HttpServletResponse resp, ResolvedScript script,
                          ScriptProcess proc, OutputBuffer buffer, RunLimiter.Slot slot)
            throws IOException, InterruptedException {
        CgiResponseHead head;
        try {
            head = CgiResponseHead.read(proc.stdout(), s.maxHeaderSize());
        } catch (CgiResponseHead.IncompleteException e) {
            ScriptResponse.failBeforeHeaders(req, resp, proc, e.bytesRead());
            return null;
        } catch (CgiResponseHead.MalformedException e) {
            proc.stop(ScriptProcess.Stop.CLIENT_GONE);
            LOG.warn("{} {}: 502, malformed header block from {}: {}: \"{}\"", req.getMethod(),
                    req.getRequestURI(), script.file(), e.getMessage(), e.line());
            ErrorPage.send(resp, 502, req.getRequestURI());
            return null;
        }
        proc.headersSent();
        if (LocalRedirect.requested(head)) {
            proc.stdout().transferTo(OutputStream.nullOutputStream()); // a local redirect's body is dropped
            int exit = proc.awaitExit();
            if (exit != 0) {
                LOG.info("{} {}: script exited with status {}", req.getMethod(), req.getRequestURI(), exit);
            }
            return head.location();
        }
        ScriptResponse.send(req, resp, proc, head, buffer, slot);
        return null;
    }

    /**
     * With the script done and its slot free: the response is ended for the client, then the request waits for
     * the body pump to let go of the request stream (the container recycles it once we return) and drops what
     * the script left unread. Where the container allows, that wait is asynchronous: a client that stalls
     * mid-upload then holds no request thread either, only the pump already blocked on it.
     */
    private static void afterScript(HttpServletRequest req, HttpServletResponse resp, ScriptProcess proc,
                                    RequestBody body, boolean answered) {
        CompletableFuture<Void> pumped = proc.stdinDone();
        if (answered && !pumped.isDone()) {
            try {
                resp.flushBuffer();
                resp.getOutputStream().close();
            } catch (IOException | IllegalStateException clientGone) {
                // nothing more to send
            }
            AsyncContext later = req.isAsyncSupported() ? startAsync(req) : null;
            if (later != null) {
                later.setTimeout(0); // the pump ends by itself: body-timeout bounds each read
                pumped.whenComplete((done, failure) -> {
                    body.discardUnread(proc.stdinBrokenByScript());
                    later.complete();
                });
                return;
            }
        }
        try {
            pumped.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // the pump reports nothing but completion
        }
        body.discardUnread(proc.stdinBrokenByScript());
    }

    private static AsyncContext startAsync(HttpServletRequest req) {
        try {
            return req.startAsync();
        } catch (IllegalStateException notNow) {
            return null; // the container will not: wait on this thread
        }
    }

    /** The logger a script's stderr goes to: {@code kiln.script.} and its path below the scripts folder. */
    private static String logName(ResolvedScript script) {
        String path = script.scriptPath();
        return "kiln.script" + (path.startsWith("/") ? "." : "") + path.substring(1);
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
