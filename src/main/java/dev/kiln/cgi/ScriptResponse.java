package dev.kiln.cgi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.run.ScriptProcess;

/**
 * Turns a running script's output into the HTTP response: its header block into status and headers, the rest
 * streamed to the client with a flush whenever the script pauses. Also answers for a script that ends before
 * its header block is complete.
 */
final class ScriptResponse {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.cgi");
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "transfer-encoding", "keep-alive",
            "upgrade", "proxy-connection", "te", "trailer");

    private ScriptResponse() {
    }

    /** Sends {@code head} and streams the rest of stdout, then waits for the script to exit. */
    static void send(HttpServletRequest req, HttpServletResponse resp, ScriptProcess proc, CgiResponseHead head)
            throws IOException, InterruptedException {
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
        long sent;
        try {
            sent = copyBody(proc.stdout(), resp, head.body(), "HEAD".equals(req.getMethod()));
        } catch (ClientGone gone) {
            if (proc.stopReason() == null) {
                proc.stop(ScriptProcess.Stop.CLIENT_GONE);
                LOG.info("{} {}: client went away after {} bytes; script stopped", req.getMethod(),
                        req.getRequestURI(), gone.sent);
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

    /** Answers for a script whose output ended before its header block did: 504, 500, or nothing. */
    static void failBeforeHeaders(HttpServletRequest req, HttpServletResponse resp, ScriptProcess proc,
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
        if (stop == ScriptProcess.Stop.SERVER_STOPPING) {
            LOG.warn("{} {}: 503, script stopped after {} ms: Kiln is shutting down and shutdown-grace ran out",
                    req.getMethod(), requestPath, proc.elapsedMillis());
            resp.setHeader("Connection", "close");
            ErrorPage.send(resp, 503, requestPath);
            return;
        }
        // held back until now, so the traceback is logged once, here, and not line by line before
        List<String> held = proc.heldStderr();
        String stderr = held.isEmpty() && !proc.stderrTail().isEmpty() ? "(logged above)"
                : held.isEmpty() ? "(empty)" : String.join(" | ", held);
        LOG.warn("{} {}: 500, script exited with status {} before sending its headers ({} bytes of output); "
                        + "stderr: {}", req.getMethod(), requestPath, exit, bytesRead, stderr);
        ErrorPage.send(resp, 500, requestPath);
    }

    /** The client's side failed after {@code sent} bytes of body. */
    private static final class ClientGone extends Exception {
        final long sent;

        ClientGone(long sent) {
            super(null, null, false, false);
            this.sent = sent;
        }
    }

    /** Copies the body, flushing whenever the script has nothing more ready; returns the bytes sent. */
    private static long copyBody(InputStream out, HttpServletResponse resp, byte[] start, boolean headRequest)
            throws ClientGone {
        long sent = 0;
        try {
            OutputStream client = resp.getOutputStream();
            if (!headRequest && start.length > 0) {
                client.write(start);
                sent += start.length;
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
            return sent;
        } catch (IOException e) {
            throw new ClientGone(sent);
        }
    }
}
