package dev.kiln.cgi;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.run.RunLimiter;
import dev.kiln.run.ScriptProcess;

/**
 * Turns a running script's output into the HTTP response: its header block into status and headers, the rest
 * through an {@link OutputBuffer} to the client with a flush whenever the script pauses. The slot is given back
 * the moment the script is done, however slowly the client reads. A response the script did not finish (killed,
 * died by a signal, short of its Content-Length) is aborted, never made to look complete. Also answers for a
 * script that ends before its header block is complete.
 */
final class ScriptResponse {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.cgi");
    private static final int SIGKILLED = 128 + 9;
    /** How long a script whose output has stopped may take to end it before what it sent is flushed. */
    private static final long END_GRACE_NANOS = 10_000_000;
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "transfer-encoding", "keep-alive",
            "upgrade", "proxy-connection", "te", "trailer");

    private ScriptResponse() {
    }

    /** Sends {@code head} and the rest of stdout; the slot is closed as soon as the script has exited. */
    static void send(HttpServletRequest req, HttpServletResponse resp, ScriptProcess proc, CgiResponseHead head,
                     OutputBuffer buffer, RunLimiter.Slot slot) throws IOException, InterruptedException {
        buffer.write(head.body());
        CompletableFuture<Integer> exit = proc.pumpStdout(buffer, buffer.room())
                .whenComplete((code, failure) -> slot.close());
        int status = head.status() != 0 ? head.status() : head.location() != null ? 302 : 200;
        boolean bodyless = "HEAD".equals(req.getMethod()) || status == 204 || status == 304;
        long declared = head.contentLength();
        if (declared >= 0 && !bodyless && !wholeBodyMatches(req, resp, buffer, declared)) {
            buffer.abandon();
            proc.stop(ScriptProcess.Stop.CLIENT_GONE);
            return;
        }
        resp.setStatus(status);
        for (CgiResponseHead.Header h : head.headers()) {
            String lower = h.name().toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(lower)) {
                continue;
            }
            switch (lower) {
                case "content-type" -> resp.setContentType(h.value());
                case "content-length" -> resp.setContentLengthLong(declared);
                default -> resp.addHeader(h.name(), h.value());
            }
        }
        long limit = bodyless ? 0 : declared >= 0 ? declared : Long.MAX_VALUE;
        long sent;
        try {
            sent = copyBody(buffer, resp, limit);
        } catch (ClientGone gone) {
            buffer.abandon();
            if (proc.stopReason() == null) {
                proc.stop(ScriptProcess.Stop.CLIENT_GONE);
                LOG.info("{} {}: client went away after {} bytes; script stopped", req.getMethod(),
                        req.getRequestURI(), gone.sent);
            }
            return;
        }
        finish(req, resp, proc, awaitExit(exit), sent, sent < limit, declared >= 0 && sent < limit);
    }

    /**
     * A body with a Content-Length that fits in memory is checked whole before anything is sent: a mismatch
     * is a 502. A larger one is sent as it comes and aborted if it falls short.
     */
    private static boolean wholeBodyMatches(HttpServletRequest req, HttpServletResponse resp, OutputBuffer buffer,
                                            long declared) throws IOException, InterruptedException {
        long have = buffer.awaitMoreThan(declared);
        if (have < 0 || have == declared) {
            return true; // larger than memory: checked as it is sent
        }
        LOG.warn("{} {}: 502, the script's Content-Length {} does not match its body ({} bytes); fix: send the "
                        + "body's length, or no Content-Length", req.getMethod(), req.getRequestURI(), declared,
                have > declared ? "more than " + declared : Long.toString(have));
        ErrorPage.send(resp, 502, req.getRequestURI());
        return false;
    }

    private static int awaitExit(CompletableFuture<Integer> exit) throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            return -1;
        }
    }

    /**
     * After the body: an unfinished response is aborted (logged at WARN), after what the script sent of it has
     * gone out; a finished one may note its status. {@code shortOfLimit}: fewer bytes were sent than the body
     * may hold; {@code shortOfLength}: fewer than its Content-Length.
     */
    private static void finish(HttpServletRequest req, HttpServletResponse resp, ScriptProcess proc, int exit,
                               long sent, boolean shortOfLimit, boolean shortOfLength) throws IOException {
        ScriptProcess.Stop stop = proc.stopReason();
        if (stop == ScriptProcess.Stop.CLIENT_GONE) {
            LOG.info("{} {}: the client went away after {} bytes (its upload failed or stopped); script stopped",
                    req.getMethod(), req.getRequestURI(), sent);
            return; // the container has failed the exchange already
        }
        String why = null;
        if (stop != null && !proc.outputWhole()) {
            why = "killed after " + proc.elapsedMillis() + " ms: " + stop.description
                    + "; fix: raise timeout/idle-timeout if the script needs longer";
        } else if (exit == SIGKILLED && !proc.outputWhole()) {
            why = "the script was killed by SIGKILL, " + proc.sigkillCause();
        } else if (exit > 128 && !proc.outputWhole()) {
            why = "the script died by signal " + (exit - 128) + " (or exited with status " + exit + ")";
        } else if (shortOfLength) {
            why = "the script's output ended before its Content-Length; fix: send the body's length";
        }
        if (why == null) {
            if (exit != 0) {
                LOG.info("{} {}: script exited with status {} after sending its response", req.getMethod(),
                        req.getRequestURI(), exit);
            }
            return;
        }
        LOG.warn("{} {}: response aborted after {} bytes, {}", req.getMethod(), req.getRequestURI(), sent, why);
        if (shortOfLimit) {
            resp.flushBuffer(); // the bytes it did send reach the client before the abort, as they came
        }
        if (!resp.isCommitted()) {
            ErrorPage.send(resp, stop == ScriptProcess.Stop.IDLE_TIMEOUT || stop == ScriptProcess.Stop.TOTAL_TIMEOUT
                    ? 504 : 502, req.getRequestURI());
            return;
        }
        throw new ResponseAborted("script did not finish its response");
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
                    stop.description);
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
        boolean killed = exit == SIGKILLED;
        LOG.warn("{} {}: 500, script {} before sending its headers ({} bytes of output){}; stderr: {}",
                req.getMethod(), requestPath, killed ? "was killed by SIGKILL" : "exited with status " + exit,
                bytesRead, killed ? ", " + proc.sigkillCause() : "", stderr);
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

    /**
     * Copies the body, at most {@code limit} bytes of it (the rest of the script's output is read and dropped),
     * flushing whenever the script pauses (nothing more and no end for {@link #END_GRACE_NANOS}); returns the
     * bytes sent. A body whose script has finished is left to the container to send whole, in one write with
     * its Content-Length.
     */
    private static long copyBody(OutputBuffer buffer, HttpServletResponse resp, long limit)
            throws ClientGone, InterruptedException {
        long sent = 0;
        try {
            OutputStream client = resp.getOutputStream();
            if (buffer.pausedFor(END_GRACE_NANOS)) {
                client.flush(); // headers reach the client now, not at the end
            }
            byte[] buf = new byte[16 * 1024];
            int n;
            while ((n = buffer.read(buf)) >= 0) {
                int take = (int) Math.min(n, limit - sent);
                if (take <= 0) {
                    continue;
                }
                client.write(buf, 0, take);
                sent += take;
                if (sent < limit && buffer.pausedFor(END_GRACE_NANOS)) {
                    client.flush();
                }
            }
            return sent;
        } catch (IOException e) {
            throw new ClientGone(sent);
        }
    }
}
