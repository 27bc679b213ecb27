package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 typed onto a socket, byte for byte: what {@code java.net.http} will not send (restricted headers,
 * unnormalised paths, a Content-Length with no body) and answers read as they come off the wire.
 */
public final class RawHttp {
    private static final int TIMEOUT_MILLIS = 15_000;

    private RawHttp() {
    }

    /** An answer as the server wrote it, split at the blank line. */
    public record Reply(String text) {
        public String head() {
            int split = text.indexOf("\r\n\r\n");
            return split < 0 ? text : text.substring(0, split);
        }

        public int status() {
            String[] statusLine = head().split("\r\n", 2)[0].split(" ");
            assertThat(statusLine.length).as("status line of %s", head()).isGreaterThanOrEqualTo(2);
            return Integer.parseInt(statusLine[1]);
        }

        /** The body, with chunked transfer coding undone. */
        public String body() {
            int split = text.indexOf("\r\n\r\n");
            String raw = split < 0 ? "" : text.substring(split + 4);
            return head().toLowerCase().contains("\r\ntransfer-encoding: chunked") ? unchunk(raw) : raw;
        }

        private static String unchunk(String raw) {
            StringBuilder out = new StringBuilder();
            int i = 0;
            while (i < raw.length()) {
                int eol = raw.indexOf("\r\n", i);
                int size = Integer.parseInt(raw.substring(i, eol).split(";")[0].strip(), 16);
                if (size == 0) {
                    break;
                }
                out.append(raw, eol + 2, eol + 2 + size);
                i = eol + 2 + size + 2;
            }
            return out.toString();
        }
    }

    /** {@code GET path} exactly as given (no client-side normalisation or re-encoding), then the whole answer. */
    public static Reply get(int port, String path) throws IOException {
        return exchange(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n");
    }

    /** Sends {@code request} (head and any body, ISO-8859-1) and reads until the server closes. */
    public static Reply exchange(int port, String request) throws IOException {
        return exchange(null, port, request);
    }

    /** The same from a chosen local address ({@code 127.0.0.2}: another client on loopback); null: any. */
    public static Reply exchange(InetAddress from, int port, String request) throws IOException {
        try (Connection c = open(from, port, request)) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            c.in.transferTo(all);
            return new Reply(all.toString(StandardCharsets.ISO_8859_1));
        }
    }

    /** Sends {@code request} and leaves the connection open, to read part of the answer and hang up. */
    public static Connection open(int port, String request) throws IOException {
        return open(null, port, request);
    }

    private static Connection open(InetAddress from, int port, String request) throws IOException {
        Socket s = new Socket();
        try {
            if (from != null) {
                s.bind(new InetSocketAddress(from, 0));
            }
            s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
            s.setSoTimeout(TIMEOUT_MILLIS);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return new Connection(s, s.getInputStream());
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    /** An open exchange; closing it is the client going away. */
    public static final class Connection implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final StringBuilder seen = new StringBuilder();

        private Connection(Socket socket, InputStream in) {
            this.socket = socket;
            this.in = in;
        }

        /** Reads until what arrived so far contains {@code fragment}; returns all of it. */
        public String readUntil(String fragment) throws IOException {
            byte[] buf = new byte[256];
            while (!seen.toString().contains(fragment)) {
                int n = in.read(buf);
                assertThat(n).as("connection closed before %s; answer so far: %s", fragment, seen).isPositive();
                seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
            return seen.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
