package dev.kiln.forkserver;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The one thread per fork-server: reads its CONTROL connection and hands each line to the {@link ForkServer}.
 * Lines are ASCII except a preloaded file's path; the one per request is parsed without making a String.
 */
final class ControlReader implements Runnable {
    private static final byte[] EXITED = "exited ".getBytes(StandardCharsets.US_ASCII);

    private final SocketChannel control;
    private final ForkServer server;

    ControlReader(SocketChannel control, ForkServer server) {
        this.control = control;
        this.server = server;
    }

    @Override
    public void run() {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        String cause = "closed its control connection";
        try {
            while (control.read(buf) >= 0) {
                buf.flip();
                byte[] a = buf.array();
                int start = 0;
                for (int i = 0; i < buf.limit(); i++) {
                    if (a[i] == '\n') {
                        line(a, start, i);
                        start = i + 1;
                    }
                }
                buf.position(start);
                buf.compact();
                if (!buf.hasRemaining()) {
                    throw new IOException("control line longer than " + buf.capacity() + " bytes");
                }
            }
        } catch (IOException e) {
            cause = "control connection failed: " + e;
        } catch (RuntimeException e) {
            cause = "sent what Kiln cannot read: " + e;
        } finally {
            server.died(cause);
        }
    }

    private void line(byte[] a, int from, int to) {
        if (startsWith(a, from, to, EXITED)) {
            int sp1 = indexOf(a, from + EXITED.length, to, (byte) ' ');
            int sp2 = indexOf(a, sp1 + 1, to, (byte) ' ');
            server.exited(number(a, from + EXITED.length, sp1), (int) number(a, sp2 + 1, to));
        } else {
            String text = new String(a, from, to - from, StandardCharsets.UTF_8);
            String[] words = text.split(" ", 3);
            switch (words[0]) {
                case "spawned" -> server.spawned(Long.parseLong(words[1]), Long.parseLong(words[2]));
                case "refused" -> server.refused(Long.parseLong(words[1]), words.length > 2 ? words[2] : "");
                case "loaded" -> server.loaded(Long.parseLong(words[1]), words[2]);
                case "note" -> server.note(text.substring(5));
                default -> throw new IllegalArgumentException("unknown message: " + text);
            }
        }
    }

    private static boolean startsWith(byte[] a, int from, int to, byte[] prefix) {
        if (to - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (a[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] a, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        throw new IllegalArgumentException("missing field");
    }

    private static long number(byte[] a, int from, int to) {
        if (from >= to) {
            throw new IllegalArgumentException("empty number");
        }
        long n = 0;
        for (int i = from; i < to; i++) {
            int d = a[i] - '0';
            if (d < 0 || d > 9) {
                throw new IllegalArgumentException("not a number");
            }
            n = n * 10 + d;
        }
        return n;
    }
}
