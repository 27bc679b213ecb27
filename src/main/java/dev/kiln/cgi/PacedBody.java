package dev.kiln.cgi;

import java.io.IOException;
import java.io.InputStream;

/**
 * A request body that must keep coming, as Apache's {@code mod_reqtimeout} has it ({@code body=20,MinRate=500}):
 * the client gets {@code body-timeout}, plus a second for every {@code body-min-rate} bytes it has sent. A read
 * that ends past that is refused, so a client trickling a byte now and then is cut, while a small body that
 * arrives in one go is never judged by its rate. A client that sends nothing at all is the container's to cut.
 */
final class PacedBody extends InputStream {
    /** The body came slower than body-min-rate allows. */
    static final class TooSlow extends IOException {
        TooSlow(String why) {
            super(why, null);
        }
    }

    private final InputStream in;
    private final long graceNanos;
    private final long minRate;
    private final long start = System.nanoTime();
    private long received;

    PacedBody(InputStream in, long graceNanos, long minRate) {
        this.in = in;
        this.graceNanos = graceNanos;
        this.minRate = minRate;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            arrived(1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            arrived(n);
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

    private void arrived(int n) throws TooSlow {
        received += n;
        if (minRate <= 0) {
            return;
        }
        long allowed = graceNanos + received * 1_000_000_000L / minRate;
        long took = System.nanoTime() - start;
        if (took > allowed) {
            throw new TooSlow("request body slower than body-min-rate: " + received + " bytes in " + took / 1_000_000
                    + " ms");
        }
    }
}
