package dev.kiln.run;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signals whole process groups. Java can signal one process but not a group, so Kiln keeps one small
 * {@code /bin/sh} co-process whose builtin {@code kill} does it: a pipe write per signal, no fork per request.
 * Every script starts as the leader of its own session and group ({@code setsid}), so its group id is its pid.
 */
public final class ProcessGroupSignaller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.run");
    // The group, and the leader by pid in case it has not made itself a group leader yet (Python's bootstrap
    // calls setsid() itself, a few milliseconds after start, before any of the script's code runs).
    private static final String LOOP =
            "while read -r sig pgid; do kill -s \"$sig\" -- \"-$pgid\" \"$pgid\" 2>/dev/null; done";

    private Process shell;
    private OutputStream commands;
    private boolean closed;

    /**
     * Starts the helper at once: it is one of Kiln's processes from the start, not one that appears with the first
     * stop or kill, and that first signal does not wait for a process start.
     */
    public ProcessGroupSignaller() {
        try {
            ensureShell();
        } catch (IOException e) {
            shell = null;   // signal() tries again, and says what to do if it still cannot
        }
    }

    /** Sends {@code signal} (TERM, KILL) to every process in group {@code pgid}; silently nothing if it is gone. */
    public synchronized void signal(long pgid, String signal) {
        if (closed || pgid <= 1) {
            return;
        }
        byte[] line = (signal + " " + pgid + "\n").getBytes(StandardCharsets.US_ASCII);
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                ensureShell();
                commands.write(line);
                commands.flush();
                return;
            } catch (IOException e) {
                shell = null; // died: start a new one and retry once
            }
        }
        LOG.error("cannot signal process group {} with SIG{}: /bin/sh helper does not start; fix: check that "
                + "/bin/sh exists and the process limit is not reached", pgid, signal);
    }

    private void ensureShell() throws IOException {
        if (shell != null && shell.isAlive()) {
            return;
        }
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", LOOP);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        shell = pb.start();
        commands = shell.getOutputStream();
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (shell != null) {
            try {
                commands.close(); // EOF: the helper sends what is queued, then exits
                if (!shell.waitFor(2, TimeUnit.SECONDS)) {
                    shell.destroyForcibly();
                }
            } catch (IOException e) {
                shell.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                shell.destroyForcibly();
            }
        }
    }
}
