package dev.kiln.run;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running script. The caller reads {@link #stdout()}; stdin and stderr are pumped on pool threads; a timer
 * enforces the idle and total timeouts. Whatever happens, {@link #close()} leaves nothing behind: the whole
 * process group gets SIGKILL once the script is done, so no orphan outlives the request.
 */
public final class ScriptProcess implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.run");
    private static final String MARKER = "\u001ekiln:";
    private static final int TAIL_LINES = 20;

    /** Why Kiln stopped a script, if it did. */
    public enum Stop { IDLE_TIMEOUT, TOTAL_TIMEOUT, CLIENT_GONE, SERVER_STOPPING }

    private final Process process;
    private final long pgid;
    private final Launch launch;
    private final RunSettings settings;
    private final ExecutorService pumps;
    private final ScheduledExecutorService timer;
    private final ProcessGroupSignaller signaller;
    private final Logger scriptLog;
    private final StderrSink sink;
    private final InputStream stdout;
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private final CompletableFuture<Void> stderrDone = new CompletableFuture<>();
    private final CompletableFuture<Void> stdinDone = new CompletableFuture<>();
    private final AtomicReference<Stop> stop = new AtomicReference<>();
    private final long startNanos = System.nanoTime();
    private volatile long lastOutputNanos = startNanos;
    private volatile boolean stdinBrokenByScript;
    private volatile ScheduledFuture<?> idleCheck;
    private final ScheduledFuture<?> totalCheck;

    ScriptProcess(Process process, Launch launch, RunSettings settings, StderrSink sink, ExecutorService pumps,
                  ScheduledExecutorService timer, ProcessGroupSignaller signaller, java.util.Set<ScriptProcess> live) {
        this.process = process;
        this.pgid = process.pid();
        this.launch = launch;
        this.settings = settings;
        this.pumps = pumps;
        this.timer = timer;
        this.signaller = signaller;
        this.sink = sink;
        this.scriptLog = LoggerFactory.getLogger(launch.logName());
        this.stdout = new Watched(process.getInputStream());
        pumps.execute(this::pumpStderr);
        this.idleCheck = timer.schedule(this::checkIdle, settings.idleTimeout().toNanos(), TimeUnit.NANOSECONDS);
        this.totalCheck = timer.schedule(() -> stop(Stop.TOTAL_TIMEOUT), settings.timeout().toNanos(),
                TimeUnit.NANOSECONDS);
        // The moment the script itself exits, whatever it left running in its group is an orphan. A pooled
        // thread waits for that: Process.onExit() would start a new thread per call on a 2-core machine
        // (CompletableFuture's async pool is a thread per task when the common pool has one worker).
        live.add(this);
        pumps.execute(() -> {
            awaitExitUninterruptibly();
            signaller.signal(pgid, "KILL");
            live.remove(this);
        });
    }

    public long pid() {
        return pgid;
    }

    /** The script's stdout; reading it counts as output for the idle timeout. */
    public InputStream stdout() {
        return stdout;
    }

    /**
     * Copies the request body to the script's stdin on a pool thread, then closes it. A script that exits
     * without reading its body is fine; a client that breaks off its upload stops the script.
     */
    public void feedStdin(InputStream body) {
        if (body == null) {
            closeQuietly(process.getOutputStream());
            stdinDone.complete(null);
            return;
        }
        pumps.execute(() -> {
            try {
                copyBody(body);
            } finally {
                stdinDone.complete(null);
            }
        });
    }

    private void copyBody(InputStream body) {
        byte[] buf = new byte[16 * 1024];
        try (OutputStream in = process.getOutputStream()) {
            while (true) {
                int n;
                try {
                    n = body.read(buf);
                } catch (IOException clientSide) {
                    stop(Stop.CLIENT_GONE);
                    return;
                }
                if (n < 0) {
                    return;
                }
                try {
                    in.write(buf, 0, n);
                } catch (IOException scriptSide) {
                    stdinBrokenByScript = true; // it exited or closed stdin without reading all: allowed
                    return;
                }
            }
        } catch (IOException closing) {
            stdinBrokenByScript = true;
        }
    }

    /** Stops the script: SIGTERM to its group, SIGKILL after the grace period. The first reason sticks. */
    public void stop(Stop reason) {
        if (!stop.compareAndSet(null, reason)) {
            return;
        }
        if (!process.isAlive()) {
            signaller.signal(pgid, "KILL");
            return;
        }
        LOG.info("stopping {} (pid {}): {}", launch.logName().substring("kiln.script.".length()), pgid,
                describe(reason));
        signaller.signal(pgid, "TERM");
        timer.schedule(() -> signaller.signal(pgid, "KILL"), settings.killGrace().toNanos(), TimeUnit.NANOSECONDS);
    }

    private void awaitExitUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                process.waitFor();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // pool shutting down: the process still has to be waited for
                if (!process.isAlive()) {
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits up to {@code nanos} for the script itself to exit. */
    boolean waitForExit(long nanos) throws InterruptedException {
        return process.waitFor(nanos, TimeUnit.NANOSECONDS);
    }

    /** Why Kiln stopped the script, or null if it did not. */
    public Stop stopReason() {
        return stop.get();
    }

    public static String describe(Stop reason) {
        return switch (reason) {
            case IDLE_TIMEOUT -> "no output within the idle timeout";
            case TOTAL_TIMEOUT -> "ran longer than the timeout";
            case CLIENT_GONE -> "the client went away";
            case SERVER_STOPPING -> "the server is stopping";
        };
    }

    /**
     * Waits for the script to exit after its stdout closed, then for the rest of its stderr.
     *
     * @return the exit code, or -1 if it had to be killed
     */
    public int awaitExit() throws InterruptedException {
        long graceNanos = settings.killGrace().toNanos() + TimeUnit.SECONDS.toNanos(1);
        if (!process.waitFor(settings.stderrTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
            // stdout is closed but the script lingers: it cannot send anything more
            signaller.signal(pgid, "KILL");
            if (!process.waitFor(graceNanos, TimeUnit.NANOSECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        }
        try {
            stderrDone.get(settings.stderrTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            // someone in the group still holds stderr; the final group kill below frees it
        }
        return process.exitValue();
    }

    /** The last lines of stderr, for the log when a script fails before sending headers. */
    public List<String> stderrTail() {
        synchronized (stderrTail) {
            return List.copyOf(stderrTail);
        }
    }

    public boolean stdinBrokenByScript() {
        return stdinBrokenByScript;
    }

    public long elapsedMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** Kills the group if anything is left and releases every stream and timer. Idempotent. */
    @Override
    public void close() {
        idleCheck.cancel(false);
        totalCheck.cancel(false);
        if (process.isAlive()) {
            stop.compareAndSet(null, Stop.CLIENT_GONE);
            signaller.signal(pgid, "KILL");
            process.destroyForcibly();
        }
        closeQuietly(process.getOutputStream());
        closeQuietly(process.getInputStream());
        try {
            stderrDone.get(settings.killGrace().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // the stream is closed below either way
        }
        closeQuietly(process.getErrorStream());
        signaller.signal(pgid, "KILL");
        // The container recycles the request once we return: the body pump must be done with it by then.
        // With the script gone its writes fail at once; only a client that stalls mid-upload keeps it waiting.
        try {
            stdinDone.get(settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warn("request body pump for {} still busy after {}; the client stalled mid-upload",
                    launch.logName(), settings.idleTimeout());
        }
    }

    private void checkIdle() {
        if (stop.get() != null || !process.isAlive()) {
            return;
        }
        long idleNanos = settings.idleTimeout().toNanos();
        long quietFor = System.nanoTime() - lastOutputNanos;
        if (quietFor >= idleNanos) {
            stop(Stop.IDLE_TIMEOUT);
        } else {
            idleCheck = timer.schedule(this::checkIdle, idleNanos - quietFor, TimeUnit.NANOSECONDS);
        }
    }

    private void pumpStderr() {
        int max = settings.maxStderrLine();
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        boolean cut = false;
        byte[] buf = new byte[8192];
        try (InputStream err = process.getErrorStream()) {
            int n;
            while ((n = err.read(buf)) >= 0) {
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (b == '\n') {
                        emit(line, cut);
                        line.reset();
                        cut = false;
                    } else if (line.size() < max) {
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
            // stream closed by close(): nothing more to log
        } finally {
            stderrDone.complete(null);
        }
    }

    private void emit(ByteArrayOutputStream bytes, boolean cut) {
        String text = bytes.toString(StandardCharsets.UTF_8);
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        int marker = text.indexOf(MARKER);
        if (marker >= 0) {
            // Kiln's loader writes its line at exit, possibly after an unterminated line of the script's
            sink.kilnLine(text.substring(marker + MARKER.length()));
            if (marker == 0) {
                return;
            }
            text = text.substring(0, marker);
        }
        if (cut) {
            text = text + " [cut at " + settings.maxStderrLine() + " bytes]";
        }
        scriptLog.info("{}", text);
        synchronized (stderrTail) {
            if (stderrTail.size() == TAIL_LINES) {
                stderrTail.removeFirst();
            }
            stderrTail.addLast(text);
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing useful to do: the process is going away
        }
    }

    /** The script's stdout, noting the time of every read that returned data. */
    private final class Watched extends InputStream {
        private final InputStream in;

        Watched(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                lastOutputNanos = System.nanoTime();
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                lastOutputNanos = System.nanoTime();
            }
            return n;
        }

        @Override
        public int available() throws IOException {
            return in.available();
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
