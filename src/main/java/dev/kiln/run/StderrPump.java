package dev.kiln.run;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * Copies a script's stderr to its logger line by line (lines longer than the limit are cut and marked), in the
 * logging context of the request that started it, lets the launcher's filter take its own lines out, and keeps
 * the last lines for failure reports. Until the script's headers arrive its lines are held (up to a bound): a
 * script that fails before them has its stderr logged once, in the failure's WARN, not line by line as well.
 */
final class StderrPump implements Runnable {
    private static final int TAIL_LINES = 20;
    private static final int HELD_LINES = 100;

    private final InputStream stderr;
    private final Logger log;
    private final StderrFilter filter;
    private final int maxLine;
    private final Runnable done;
    private final Deque<String> tail = new ArrayDeque<>();
    private final Map<String, String> context;
    private final List<String> held = new ArrayList<>();
    private boolean holding = true;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private boolean cut;

    /**
     * @param context the logging context (request id, pid) each line is logged in
     * @param done    runs once stderr has closed (or failed) and the filter has been told
     */
    StderrPump(InputStream stderr, Logger log, StderrFilter filter, int maxLine, Map<String, String> context,
               Runnable done) {
        this.stderr = stderr;
        this.log = log;
        this.filter = filter;
        this.maxLine = maxLine;
        this.context = context;
        this.done = done;
    }

    @Override
    public void run() {
        MDC.setContextMap(context);
        try {
            pump();
        } finally {
            MDC.clear();
        }
    }

    private void pump() {
        byte[] buf = new byte[8192];
        try (InputStream err = stderr) {
            int n;
            while ((n = err.read(buf)) >= 0) {
                accept(buf, n);
            }
        } catch (IOException e) {
            // stream closed by the process's close(): nothing more to log
        } finally {
            end();
        }
    }

    /**
     * The next {@code n} bytes of stderr, from this pump's own thread or from whoever reads the script's output
     * (see {@link ChildOutput}); one caller at a time.
     */
    void accept(byte[] buf, int n) {
        for (int i = 0; i < n; i++) {
            byte b = buf[i];
            if (b == '\n') {
                emit(line, cut);
                line.reset();
                cut = false;
            } else if (line.size() < maxLine) {
                line.write(b);
            } else {
                cut = true;
            }
        }
    }

    /** Stderr has ended (or failed): the last partial line, then the filter and {@code done} are told. */
    void end() {
        try {
            if (line.size() > 0) {
                emit(line, cut);
                line.reset();
            }
            filter.closed();
        } finally {
            done.run();
        }
    }

    /** Logs the held lines at INFO, and every later line as it comes. */
    void release() {
        synchronized (held) {
            if (holding) {
                holding = false;
                // the caller may be the request's thread: the lines keep the script's own context (its pid)
                LogContext.with(context, () -> held.forEach(line -> log.info("{}", line)));
                held.clear();
            }
        }
    }

    /** Takes the held lines for the caller to log (the script failed); later lines are logged as they come. */
    List<String> takeHeld() {
        synchronized (held) {
            holding = false;
            List<String> out = List.copyOf(held);
            held.clear();
            return out;
        }
    }

    /** The last lines, oldest first. */
    List<String> tail() {
        synchronized (tail) {
            return List.copyOf(tail);
        }
    }

    private void emit(ByteArrayOutputStream bytes, boolean cut) {
        String text = bytes.toString(StandardCharsets.UTF_8);
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        text = filter.line(text);
        if (text == null) {
            return;
        }
        if (cut) {
            text = text + " [cut at " + maxLine + " bytes]";
        }
        synchronized (held) {
            if (holding && held.size() < HELD_LINES) {
                held.add(text);
            } else {
                release();
                log.info("{}", text);
            }
        }
        synchronized (tail) {
            if (tail.size() == TAIL_LINES) {
                tail.removeFirst();
            }
            tail.addLast(text);
        }
    }
}
