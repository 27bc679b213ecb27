package dev.kiln.run;

import java.io.IOException;
import java.io.InputStream;

/** A script's stdout, noting the time of every read that returned data (for the idle timeout). */
final class WatchedStream extends InputStream {
    private final InputStream in;
    private volatile long lastReadNanos;

    WatchedStream(InputStream in, long startNanos) {
        this.in = in;
        this.lastReadNanos = startNanos;
    }

    long lastReadNanos() {
        return lastReadNanos;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            lastReadNanos = System.nanoTime();
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            lastReadNanos = System.nanoTime();
        }
        return n;
    }

    /** Reads from {@code output}, this stream's source, waiting at most {@code waitNanos}: 0 when nothing came. */
    int readWithin(ChildOutput output, byte[] b, int len, long waitNanos) throws IOException {
        int n = output.read(b, 0, len, waitNanos);
        if (n > 0) {
            lastReadNanos = System.nanoTime();
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
