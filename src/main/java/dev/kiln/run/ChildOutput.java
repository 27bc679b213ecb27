package dev.kiln.run;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A script's stdout and stderr when both are sockets: whichever thread reads stdout drains stderr into the
 * {@link StderrPump} while it waits, so no thread waits on stderr alone (each such thread costs a wake-up or two
 * per request) and a script never blocks on a full stderr while Kiln reads its stdout. One selector per script,
 * used by one thread at a time; closing {@link #stdout()} and {@link #close()} wake whoever waits in it.
 */
final class ChildOutput {
    private final SocketChannel stdout;
    private final SocketChannel stderr;
    private final Closeable stdoutStream;
    private final Closeable stderrStream;
    private final StderrPump lines;
    private final Map<String, String> context;
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteBuffer errBuf = ByteBuffer.allocate(8192);
    private volatile Selector selector;
    private SelectionKey outKey;
    private SelectionKey errKey;
    private volatile boolean stderrEnded;
    private volatile boolean closed;

    /**
     * @param stdoutStream, stderrStream the child's own streams of these sockets: closing them releases the sockets
     * @param context the logging context stderr's lines are logged in, whatever thread drains them
     */
    ChildOutput(ChildProcess.OutputChannels channels, Closeable stdoutStream, Closeable stderrStream,
                StderrPump lines, Map<String, String> context) {
        this.stdout = channels.stdout();
        this.stderr = channels.stderr();
        this.stdoutStream = stdoutStream;
        this.stderrStream = stderrStream;
        this.lines = lines;
        this.context = context;
        try {
            stdout.configureBlocking(false);
            stderr.configureBlocking(false);
        } catch (IOException e) {
            closed = true; // closed already (the child is gone): reads fail, stderr ends at the first drain
        }
    }

    /** Stdout as a stream whose reads wait as long as it takes. */
    InputStream stdout() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return ChildOutput.this.read(b, off, len, 0);
            }

            @Override
            public void close() {
                closeStdout();
            }
        };
    }

    /**
     * Reads stdout, draining stderr while it waits: the bytes read, -1 at its end, or 0 when {@code waitNanos}
     * (if above 0) passed with nothing.
     */
    int read(byte[] b, int off, int len, long waitNanos) throws IOException {
        if (len == 0) {
            return 0;
        }
        ByteBuffer dst = ByteBuffer.wrap(b, off, len);
        long deadline = System.nanoTime() + waitNanos;
        lock.lock();
        try {
            while (true) {
                int n = stdout.read(dst);
                if (n != 0) {
                    return n;
                }
                drainReadyStderr();
                long left = deadline - System.nanoTime();
                if (waitNanos > 0 && left <= 0) {
                    return 0;
                }
                await(true, waitNanos > 0 ? left : 0);
            }
        } catch (CancelledKeyException | ClosedSelectorException e) {
            throw new ClosedChannelException(); // closed by another thread meanwhile
        } finally {
            unlock();
        }
    }

    /** Drains stderr until it ends or {@code waitNanos} pass (waiting that long for another reader, too). */
    boolean drainStderr(long waitNanos) throws InterruptedException {
        long deadline = System.nanoTime() + waitNanos;
        if (stderrEnded || !lock.tryLock(waitNanos, TimeUnit.NANOSECONDS)) {
            return stderrEnded;
        }
        try {
            while (true) {
                drainReadyStderr();
                long left = deadline - System.nanoTime();
                if (stderrEnded || left <= 0 || closed) {
                    return stderrEnded;
                }
                await(false, left);
            }
        } catch (IOException | CancelledKeyException | ClosedSelectorException e) {
            endStderr(); // no selector to wait in: what has not come is given up
            return true;
        } finally {
            unlock();
        }
    }

    /** Closes stdout and wakes a reader waiting on it (what closing {@link #stdout()} does). */
    private void closeStdout() {
        quietly(stdoutStream);
        wake();
    }

    /** Gives up on what stderr has not sent yet (once the script's group is dead) and frees the selector. */
    void close() {
        closed = true;
        closeStdout();
        lock.lock(); // whoever holds it is woken above and lets go
        try {
            if (!stderrEnded) {
                endStderr();
            }
        } finally {
            unlock();
        }
    }

    private void drainReadyStderr() {
        while (!stderrEnded) {
            int n;
            try {
                errBuf.clear();
                n = stderr.read(errBuf);
            } catch (IOException e) {
                n = -1; // reset (the script exited without reading all its body) or closed: stderr is over
            }
            if (n == 0) {
                return;
            }
            if (n < 0) {
                endStderr();
                return;
            }
            int read = n;
            LogContext.with(context, () -> lines.accept(errBuf.array(), read));
        }
    }

    private void endStderr() {
        stderrEnded = true;
        if (errKey != null) {
            errKey.cancel();
        }
        quietly(stderrStream);
        LogContext.with(context, lines::end);
    }

    /** Waits for stderr, and stdout too when asked; {@code nanos} 0: as long as it takes. */
    private void await(boolean withStdout, long nanos) throws IOException {
        Selector s = selector;
        if (s == null) {
            s = Selector.open();
            selector = s;
            if (closed) {
                throw new ClosedChannelException();
            }
        }
        if (withStdout || outKey != null) {
            try {
                if (outKey == null) {
                    outKey = stdout.register(s, SelectionKey.OP_READ);
                } else {
                    outKey.interestOps(withStdout ? SelectionKey.OP_READ : 0);
                }
            } catch (ClosedChannelException | CancelledKeyException e) {
                if (withStdout) {
                    throw new ClosedChannelException();
                } // else stdout closed meanwhile, and only stderr is waited for
            }
        }
        if (!stderrEnded && errKey == null) {
            try {
                errKey = stderr.register(s, SelectionKey.OP_READ);
            } catch (ClosedChannelException e) {
                endStderr();
            }
        }
        s.select(nanos <= 0 ? 0 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos + 999_999)));
        s.selectedKeys().clear();
    }

    private void wake() {
        Selector s = selector;
        if (s != null) {
            s.wakeup();
        }
    }

    /** The last one out after {@link #close()} frees the selector. */
    private void unlock() {
        try {
            if (closed && selector != null) {
                quietly(selector);
            }
        } finally {
            lock.unlock();
        }
    }

    private static void quietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // the socket or selector is gone already
        }
    }
}
