package dev.kiln.run;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Copies a script's stdout after its header block into the response's buffer, then waits for its exit. A script
 * whose output ends with no pause of {@link #PAUSE_NANOS}, and which then exits as soon, is done with on the
 * caller's thread, as a hello-world is: no hand-over to a pool thread and back, which costs more CPU than the
 * copy. Otherwise the rest is pumped on a pool thread, so that the caller can send what came so far and a slow
 * client never holds the script. Only where one thread can wait on stdout and stderr together
 * ({@link ChildOutput}); pipes always go to the pool.
 */
final class StdoutPump {
    /** A pause in a script's output this long sends what came so far to the client, through a pool thread. */
    static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /**
     * How long a script whose output has ended is waited for on the caller's thread: its exit comes after the
     * kernel has torn down its memory and its fork-server has reaped it, a few ms under load. Its whole
     * response is in the buffer meanwhile, and its slot is held that much longer at most.
     */
    static final long EXIT_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final int CHUNK = 16 * 1024;

    private final ScriptProcess script;
    private final WatchedStream stdout;
    private final ChildOutput output;
    private final ChildProcess process;
    private final Executor pool;

    StdoutPump(ScriptProcess script, WatchedStream stdout, ChildOutput output, ChildProcess process, Executor pool) {
        this.script = script;
        this.stdout = stdout;
        this.output = output;
        this.process = process;
        this.pool = pool;
    }

    /** See {@link ScriptProcess#pumpStdout}. */
    CompletableFuture<Integer> pump(OutputStream sink, int room) {
        boolean ended;
        try {
            ended = output != null && copyWithoutPause(sink, room);
        } catch (IOException e) {
            return onPool(sink, e);
        }
        if (!ended) {
            return onPool(sink, null);
        }
        try {
            sink.close();
        } catch (IOException e) {
            script.stop(ScriptProcess.Stop.CLIENT_GONE);
        }
        try {
            if (output.drainStderr(EXIT_WAIT_NANOS) && process.waitFor(EXIT_WAIT_NANOS, TimeUnit.NANOSECONDS)) {
                return CompletableFuture.completedFuture(script.awaitExit());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.completedFuture(-1);
        }
        return onPool(OutputStream.nullOutputStream(), null); // it lingers after its output: waited for there
    }

    /** Copies stdout while it flows and the sink has room: true when it ended. */
    private boolean copyWithoutPause(OutputStream sink, int room) throws IOException {
        byte[] buf = new byte[Math.max(0, Math.min(room, CHUNK))];
        int left = room;
        while (left > 0) {
            int n = stdout.readWithin(output, buf, Math.min(buf.length, left), PAUSE_NANOS);
            if (n < 0) {
                return true;
            }
            if (n == 0) {
                return false;
            }
            sink.write(buf, 0, n);
            left -= n;
        }
        return false;
    }

    /** The rest of stdout pumped on a pool thread; {@code failed}: the sink failed already. */
    private CompletableFuture<Integer> onPool(OutputStream sink, IOException failed) {
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        pool.execute(() -> {
            try (sink) {
                if (failed != null) {
                    throw failed;
                }
                stdout.transferTo(sink);
            } catch (IOException e) {
                script.stop(ScriptProcess.Stop.CLIENT_GONE); // closed under us: the request is over
            }
            try {
                exit.complete(script.awaitExit());
            } catch (InterruptedException e) {
                exit.complete(-1);
            } catch (RuntimeException e) {
                exit.completeExceptionally(e);
            }
        });
        return exit;
    }
}
