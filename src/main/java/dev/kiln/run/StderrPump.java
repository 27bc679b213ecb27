package dev.kiln.run;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import org.slf4j.Logger;

/**
 * Copies a script's stderr to its logger line by line as it comes (lines longer than the limit are cut and
 * marked), lets the launcher's filter take its own lines out, and keeps the last lines for failure reports.
 */
final class StderrPump implements Runnable {
    private static final int TAIL_LINES = 20;

    private final InputStream stderr;
    private final Logger log;
    private final StderrFilter filter;
    private final int maxLine;
    private final Runnable done;
    private final Deque<String> tail = new ArrayDeque<>();

    /** @param done runs once stderr has closed (or failed) and the filter has been told */
    StderrPump(InputStream stderr, Logger log, StderrFilter filter, int maxLine, Runnable done) {
        this.stderr = stderr;
        this.log = log;
        this.filter = filter;
        this.maxLine = maxLine;
        this.done = done;
    }

    @Override
    public void run() {
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        boolean cut = false;
        byte[] buf = new byte[8192];
        try (InputStream err = stderr) {
            int n;
            while ((n = err.read(buf)) >= 0) {
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
            if (line.size() > 0) {
                emit(line, cut);
            }
        } catch (IOException e) {
            // stream closed by the process's close(): nothing more to log
        } finally {
            try {
                filter.closed();
            } finally {
                done.run();
            }
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
        log.info("{}", text);
        synchronized (tail) {
            if (tail.size() == TAIL_LINES) {
                tail.removeFirst();
            }
            tail.addLast(text);
        }
    }
}
