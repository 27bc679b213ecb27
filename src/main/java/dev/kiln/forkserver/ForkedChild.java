package dev.kiln.forkserver;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import dev.kiln.run.ChildProcess;

/**
 * A script a fork-server started. Its stdout is one socket; its stdin and stderr share another, whose output side
 * closing is the script's end-of-file and whose input side is stderr. No thread of its own: the fork-server's
 * control thread completes its exit. If the fork-server dies, it completes as killed ({@code 137}) and its sockets
 * close.
 */
public final class ForkedChild implements ChildProcess {
    static final int KILLED = 128 + 9;

    private final ForkServer server;
    private final long createdNanos = System.nanoTime();
    private final SocketChannel out;
    private final SocketChannel io;
    private final CompletableFuture<Long> start = new CompletableFuture<>();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final AtomicInteger ioHalves = new AtomicInteger(0b11);     // stdin, stderr still open
    private final OutputStream stdin;
    private final InputStream stdout;
    private final InputStream stderr;
    private volatile long pid = -1;
    private volatile boolean reaped;      // its exit came from the fork-server, which killed its group first

    ForkedChild(ForkServer server, SocketChannel out, SocketChannel io) {
        this.server = server;
        this.out = out;
        this.io = io;
        this.stdin = new SocketOutput(io, () -> closeHalf(0b01));
        this.stdout = new SocketInput(out, false, () -> Channels.closeQuietly(out));
        this.stderr = new SocketInput(io, true, () -> closeHalf(0b10));
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public OutputStream stdin() {
        return stdin;
    }

    @Override
    public InputStream stdout() {
        return stdout;
    }

    @Override
    public InputStream stderr() {
        return stderr;
    }

    /** Both sockets, for one thread to wait on: stdin then waits for room itself ({@link SocketOutput}). */
    @Override
    public OutputChannels outputChannels() {
        return new OutputChannels(out, io);
    }

    @Override
    public boolean isAlive() {
        return !exit.isDone();
    }

    @Override
    public int waitFor() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause()); // never: exit only completes normally
        }
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        try {
            exit.get(timeout, unit);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public int exitValue() {
        Integer code = exit.getNow(null);
        if (code == null) {
            throw new IllegalStateException("script " + pid + " has not exited");
        }
        return code;
    }

    /** Runs on the control thread when the fork-server reports the exit: no thread waits per request. */
    @Override
    public void onExit(Runnable action, Executor waiters) {
        exit.whenComplete((code, failure) -> action.run());
    }

    /** The fork-server kills the group as it reaps the script, before it reports the exit; not when it was lost. */
    @Override
    public boolean groupKilledOnExit() {
        return reaped;
    }

    /** SIGKILL to the script itself, sent by the fork-server, which knows whether the pid is still its child. */
    @Override
    public void destroyForcibly() {
        server.signal(this, false, 9);
    }

    /** Asks the fork-server that started it to keep the code of these pycs for the children after it. */
    public void warm(List<WarmCode> pycs) {
        server.warm(pycs);
    }

    /** Sends {@code signal} (e.g. 15, 9) to the script's whole process group, while the script is running. */
    public void signalGroup(int signal) {
        server.signal(this, true, signal);
    }

    @Override
    public String toString() {
        return "script " + pid;
    }

    /** The pid the child writes first on its stdout, or -1 when the fork-server closed it instead. */
    long readPid() throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(Long.BYTES);
        while (buf.hasRemaining()) {
            if (out.read(buf) < 0) {
                return -1;
            }
        }
        return buf.getLong(0);
    }

    /**
     * The pid the fork-server reports on CONTROL for a spawned script ({@link #begin} on the control thread), or
     * -1 when it was failed instead or not answered within {@code timeout}.
     */
    long awaitSpawned(Duration timeout) {
        try {
            return start.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed(new IOException("interrupted while the fork-server started the script"));
            return -1;
        }
    }

    /** Marks it running; false when it was failed meanwhile (timed out, fork-server gone). */
    boolean begin(long childPid) {
        pid = childPid;
        return start.complete(childPid);
    }

    boolean starting() {
        return !start.isDone();
    }

    long ageNanos() {
        return System.nanoTime() - createdNanos;
    }

    void exited(int status) {
        reaped = true;
        exit.complete(status);
    }

    /** The fork-server would not or could not start it; true when it had not started. */
    boolean failed(IOException cause) {
        if (!start.completeExceptionally(cause)) {
            return false;
        }
        closeAll();
        return true;
    }

    /** The fork-server died or stopped while the script ran: it has been killed, and nothing more comes. */
    void lost() {
        closeAll();
        exit.complete(KILLED);
    }

    /** Why it did not start, once the fork-server has said so (or a timeout). */
    IOException failure(Duration timeout) {
        try {
            start.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return new IOException("the fork-server closed the script's stdout before its pid");
        } catch (ExecutionException e) {
            return e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (TimeoutException e) {
            failed(new IOException("no answer"));
            return new IOException("the fork-server gave no reason for not starting the script within "
                    + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed(new IOException("interrupted"));
            return new InterruptedIOException("interrupted while the fork-server started the script");
        }
    }

    private void closeHalf(int half) {
        int before = ioHalves.getAndUpdate(h -> h & ~half);
        if ((before & half) == 0) {
            return;
        }
        try {
            if (before == half) {
                io.close();
            } else if (half == 0b01) {
                io.shutdownOutput();
            } else {
                io.shutdownInput();
            }
        } catch (IOException e) {
            // the script is gone already: nothing to shut down
        }
    }

    void closeAll() {
        Channels.closeQuietly(out);
        Channels.closeQuietly(io);
    }
}
