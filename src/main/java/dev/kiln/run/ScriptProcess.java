package dev.kiln.run;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running script. The caller reads {@link #stdout()}; stdin is pumped on a pool thread; stderr is drained by
 * whoever reads stdout where both are sockets ({@link ChildOutput}), else on a pool thread of its own; a timer
 * enforces the idle and total timeouts. Whatever happens, {@link #close()} leaves nothing behind: the whole
 * process group gets SIGKILL once the script is done, so no orphan outlives the request.
 */
public final class ScriptProcess implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.run");

    /** Why Kiln stopped a script, if it did, in the words of its log line. */
    public enum Stop {
        IDLE_TIMEOUT("no output within the idle timeout"), TOTAL_TIMEOUT("ran longer than the timeout"),
        CLIENT_GONE("the client went away"), SERVER_STOPPING("the server is stopping");

        public final String description;

        Stop(String description) {
            this.description = description;
        }
    }

    private final ChildProcess process;
    private final long pgid;
    private final String logName;
    private final RunSettings settings;
    private final ScriptRunner runner;
    private final ProcessGroupSignaller signaller;
    private final StderrPump stderrPump;
    private final ChildOutput output;   // stdout and stderr read by one thread; null: a thread pumps stderr
    private final StdoutPump stdoutPump;
    private final StdinPump stdinPump;
    private final Cage cage;
    private final CompletableFuture<Void> stderrDone = new CompletableFuture<>();
    private final AtomicReference<Stop> stop = new AtomicReference<>();
    private final long startNanos = System.nanoTime();
    private final OomKills.Count oomAtStart;
    private final WatchedStream stdout;
    private final Map<String, String> context; // of the request that started it, and its pid
    private volatile boolean killedAfterOutput;
    private volatile boolean outputEndedFirst;
    private volatile boolean groupKilled;

    ScriptProcess(ChildProcess process, String logName, StderrFilter stderr, Cage cage, ScriptRunner runner) {
        this.process = process;
        this.cage = cage;
        this.pgid = process.pid();
        this.logName = logName;
        this.runner = runner;
        this.settings = runner.settings();
        this.oomAtStart = runner.oomKills().recent();
        this.signaller = runner.signaller();
        this.context = LogContext.ofScript(pgid);
        this.stderrPump = new StderrPump(process.stderr(), LoggerFactory.getLogger(logName), stderr,
                settings.maxStderrLine(), this.context, () -> stderrDone.complete(null));
        ChildProcess.OutputChannels channels = process.outputChannels();
        if (channels != null) {
            this.output = new ChildOutput(channels, process.stdout(), process.stderr(), stderrPump, context);
            this.stdout = new WatchedStream(output.stdout(), startNanos);
        } else {
            this.output = null;
            this.stdout = new WatchedStream(process.stdout(), startNanos);
            runner.pumps().execute(stderrPump);
        }
        this.stdoutPump = new StdoutPump(this, stdout, output, process, runner.pumps());
        this.stdinPump = new StdinPump(process.stdin(), runner.pumps(), () -> stop(Stop.CLIENT_GONE));
        runner.live().add(this);
        process.onExit(() -> {  // the moment the script exits, what it left running in its group is an orphan
            if (!process.groupKilledOnExit()) {
                signaller.signal(pgid, "KILL");
            }
            groupKilled = true;     // a group killed once its leader is gone can start nothing more
            runner.live().remove(this);
            runner.ended(script(), cage, process.exitValue());
        }, runner.pumps());
    }

    /** Runs {@code action} with the exit code once the script itself has exited (128 + signal when killed). */
    public void whenExited(IntConsumer action) {
        process.onExit(() -> action.accept(process.exitValue()), runner.pumps());
    }

    public long pid() {
        return pgid;
    }

    /** The script's path below the scripts folder. */
    public String script() {
        return logName.substring("kiln.script.".length());
    }

    /** The script's stdout; reading it counts as output for the idle timeout. */
    public InputStream stdout() {
        return stdout;
    }

    /** Copies the request body to the script's stdin on a pool thread, then closes it ({@link StdinPump}). */
    public void feedStdin(InputStream body) {
        stdinPump.feed(body);
    }

    /** Done once the body pump let go of the request stream, which the container recycles once the request ends. */
    public CompletableFuture<Void> stdinDone() {
        return stdinPump.done();
    }

    /**
     * Copies the rest of stdout into {@code sink}, closes it, then completes with {@link #awaitExit()}; on this
     * thread when the script finishes without a pause, else on a pool thread (see {@link StdoutPump}).
     * {@code room}: bytes the sink takes without waiting for this thread.
     */
    public CompletableFuture<Integer> pumpStdout(OutputStream sink, int room) {
        return stdoutPump.pump(sink, room);
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
        runner.stopped(reason);
        // the timer thread stops scripts too: the line still names the request
        LogContext.with(context, () -> LOG.info("stopping {} (pid {}): {}", script(), pgid, reason.description));
        signaller.signal(pgid, "TERM");
        runner.timer().schedule(() -> {
            if (process.isAlive()) {
                runner.killed();
            }
            signaller.signal(pgid, "KILL");
        }, settings.killGrace().toNanos(), TimeUnit.NANOSECONDS);
    }

    boolean waitForExit(long nanos) throws InterruptedException {
        return process.waitFor(nanos, TimeUnit.NANOSECONDS);
    }

    /** Waits at most {@code nanos} for the end of stderr, reading it on this thread where it can be. */
    private void awaitStderr(long nanos) throws InterruptedException {
        if (output != null) {
            output.drainStderr(nanos);
            return;
        }
        try {
            stderrDone.get(nanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // not ended within the time
        }
    }

    /** Why Kiln stopped the script, or null if it did not. */
    public Stop stopReason() {
        return stop.get();
    }

    /** Waits for the script to exit after its stdout closed, then for its stderr; -1 if it had to be killed. */
    public int awaitExit() throws InterruptedException {
        outputEndedFirst = stop.get() == null; // its stdout ended before a timeout, its client or the server
        long graceNanos = settings.killGrace().toNanos() + TimeUnit.SECONDS.toNanos(1);
        long stderrNanos = settings.stderrTimeout().toNanos();
        if (output != null) {   // its stderr is read on this thread: while the script finishes, too
            output.drainStderr(stderrNanos);
        }
        if (!process.waitFor(stderrNanos, TimeUnit.NANOSECONDS)) {
            // stdout is closed but the script lingers: it cannot send anything more
            killedAfterOutput = true;
            signaller.signal(pgid, "KILL");
            if (!process.waitFor(graceNanos, TimeUnit.NANOSECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        }
        awaitStderr(stderrNanos); // if someone in the group still holds it, the final group kill frees it
        return process.exitValue();
    }

    /** The last lines of stderr, for the log when a script fails before sending headers. */
    public List<String> stderrTail() {
        return stderrPump.tail();
    }

    /** The script sent its headers: its stderr so far is logged, and the rest as it comes. */
    public void headersSent() {
        stderrPump.release();
    }

    /** The script failed before its headers: the stderr held back (after {@link #awaitExit()}, all of it). */
    public List<String> heldStderr() {
        return stderrPump.takeHeld();
    }

    /** Who sent the SIGKILL that ended the script (exit 137) when no stop of Kiln's did, and the fix. */
    public String sigkillCause() {
        return killedAfterOutput ? "by Kiln: it ran on after its output ended (stderr-timeout)"
                : runner.oomKills().cause(oomAtStart, elapsedMillis(), settings.limits());
    }

    /** Whether what it sent is whole though it was ended: killed lingering, or stopped after its stdout ended. */
    public boolean outputWhole() {
        return killedAfterOutput || outputEndedFirst && stop.get() != null;
    }

    public boolean stdinBrokenByScript() {
        return stdinPump.brokenByScript();
    }

    public long elapsedMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** Kills the group if anything is left and releases every stream and timer. Idempotent. */
    @Override
    public void close() {
        stderrPump.release();
        if (process.isAlive()) {
            stop.compareAndSet(null, Stop.CLIENT_GONE);
            signaller.signal(pgid, "KILL");
            process.destroyForcibly();
        }
        closeQuietly(process.stdin());
        closeQuietly(stdout); // wakes a reader waiting on it, in a selector too
        try {
            awaitStderr(settings.killGrace().toNanos() + TimeUnit.SECONDS.toNanos(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the stream is closed below either way
        }
        if (output != null) {
            output.close();
        } else {
            closeQuietly(process.stderr());
        }
        if (!groupKilled) {
            signaller.signal(pgid, "KILL");
        }
        cage.close();
    }

    /** Stops a script past its timeout or idle timeout; the runner's one sweep calls it, no task per request. */
    void checkDeadlines(long now) {
        if (stop.get() != null || !process.isAlive()) {
            return;
        }
        if (now - startNanos >= settings.timeout().toNanos()) {
            stop(Stop.TOTAL_TIMEOUT);
        } else if (now - stdout.lastReadNanos() >= settings.idleTimeout().toNanos()) {
            stop(Stop.IDLE_TIMEOUT);
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing useful to do: the process is going away
        }
    }
}
