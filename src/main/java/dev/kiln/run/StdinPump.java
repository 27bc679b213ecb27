package dev.kiln.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Copies a request body to a script's stdin on a pool thread, then closes it. A script that exits without
 * reading its body is fine; a client that breaks off its upload stops the script.
 */
final class StdinPump {
    private final OutputStream stdin;
    private final Executor pool;
    private final Runnable clientGone;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private volatile boolean brokenByScript;

    StdinPump(OutputStream stdin, Executor pool, Runnable clientGone) {
        this.stdin = stdin;
        this.pool = pool;
        this.clientGone = clientGone;
    }

    /** Starts the copy; {@code body} null: stdin is closed at once. */
    void feed(InputStream body) {
        if (body == null) {
            try {
                stdin.close();
            } catch (IOException e) {
                // the script is gone already
            }
            done.complete(null);
            return;
        }
        pool.execute(() -> {
            try {
                copy(body);
            } finally {
                done.complete(null);
            }
        });
    }

    /** Done once the pump let go of the request stream, which the container recycles once the request ends. */
    CompletableFuture<Void> done() {
        return done;
    }

    /** The script exited or closed its stdin without reading all of its body (allowed). */
    boolean brokenByScript() {
        return brokenByScript;
    }

    private void copy(InputStream body) {
        byte[] buf = new byte[16 * 1024];
        try (OutputStream in = stdin) {
            while (true) {
                int n;
                try {
                    n = body.read(buf);
                } catch (IOException | RuntimeException clientSide) { // the container's 408 is unchecked
                    clientGone.run();
                    return;
                }
                if (n < 0) {
                    return;
                }
                try {
                    in.write(buf, 0, n);
                } catch (IOException scriptSide) {
                    brokenByScript = true;
                    return;
                }
            }
        } catch (IOException closing) {
            brokenByScript = true;
        }
    }
}
