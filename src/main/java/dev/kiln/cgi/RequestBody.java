package dev.kiln.cgi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The request body as the script will read it. A body with a Content-Length is streamed straight through,
 * never held in memory. A chunked body has no length, but CGI needs CONTENT_LENGTH, so it is spooled to a
 * file of {@link SpoolFolder}'s first, up to the body limit, and read back through the same open file.
 */
final class RequestBody implements AutoCloseable {
    /** How much of an over-limit chunked body is read and dropped before the 413. */
    static final long SWALLOW = 2L << 20;

    private final InputStream stream;
    private final long length;
    private final FileChannel spool;
    private final boolean tooLarge;

    private RequestBody(InputStream stream, long length, FileChannel spool, boolean tooLarge) {
        this.stream = stream;
        this.length = length;
        this.spool = spool;
        this.tooLarge = tooLarge;
    }

    static RequestBody of(HttpServletRequest req, SpoolFolder spool, long maxBody) throws IOException {
        long declared = req.getHeader("Content-Length") == null ? -1 : req.getContentLengthLong();
        if (declared >= 0) {
            return new RequestBody(declared == 0 ? null : req.getInputStream(), declared, null, false);
        }
        if (req.getHeader("Transfer-Encoding") == null) {
            return new RequestBody(null, -1, null, false); // no body at all
        }
        FileChannel file = spool.newFile();
        long total = 0;
        try (InputStream in = req.getInputStream()) {
            OutputStream out = Channels.newOutputStream(file);
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                total += n;
                if (total > maxBody) {
                    file.close();
                    swallow(in);
                    return new RequestBody(null, -1, null, true);
                }
                out.write(buf, 0, n);
            }
            file.position(0);
        } catch (IOException e) {
            file.close();
            throw e;
        }
        return new RequestBody(Channels.newInputStream(file), total, file, false);
    }

    /**
     * Reads and drops up to {@link #SWALLOW} more bytes of a body that is over the limit, so a client still
     * uploading gets to read its 413 instead of stalling with a full send window (Tomcat's maxSwallowSize).
     * A larger rest is left unread; the 413 then closes the connection.
     */
    private static void swallow(InputStream in) {
        byte[] buf = new byte[64 * 1024];
        long dropped = 0;
        try {
            int n;
            while (dropped < SWALLOW && (n = in.read(buf)) >= 0) {
                dropped += n;
            }
        } catch (IOException clientGone) {
            // nothing to answer
        }
    }

    /** The body to copy to the script's stdin, or null when there is none. */
    InputStream stream() {
        return stream;
    }

    /** CONTENT_LENGTH, or -1 when the request has no body. */
    long length() {
        return length;
    }

    boolean tooLarge() {
        return tooLarge;
    }

    /**
     * A script may answer without reading its whole body. The rest is read and dropped (it is at most max-body),
     * so a client still uploading gets the response instead of a connection reset. Call after the script is
     * closed, when the body pump has let go of the request stream.
     */
    void discardUnread(boolean scriptStoppedReading) {
        if (!scriptStoppedReading || stream == null) {
            return;
        }
        try {
            stream.transferTo(OutputStream.nullOutputStream());
        } catch (IOException clientGone) {
            // nothing left to save
        }
    }

    @Override
    public void close() throws IOException {
        if (spool != null) {
            spool.close(); // the file was unlinked when it was made: closing frees it
        }
    }
}
