package dev.kiln.cgi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The request body as the script will read it. A body with a Content-Length is streamed straight through,
 * never held in memory. A chunked body has no length, but CGI needs CONTENT_LENGTH, so it is spooled to a
 * {@link Spool} file first, up to the body limit, while the spool has room for one more upload and its bytes.
 */
final class RequestBody implements AutoCloseable {
    /** How much of an over-limit body is read and dropped before the connection is given up. */
    static final long SWALLOW = 2L << 20;

    /** Why a body is not there for the script. */
    enum Refusal { NONE, TOO_LARGE, TOO_MANY_UPLOADS, SPOOL_FULL }

    private final InputStream stream;
    private final long length;
    private final Path spool;
    private final Refusal refusal;
    private final Spool owner;
    private final long reserved;

    private RequestBody(InputStream stream, long length, Path spool, Refusal refusal, Spool owner, long reserved) {
        this.stream = stream;
        this.length = length;
        this.spool = spool;
        this.refusal = refusal;
        this.owner = owner;
        this.reserved = reserved;
    }

    private static RequestBody refused(Refusal why) {
        return new RequestBody(null, -1, null, why, null, 0);
    }

    static RequestBody of(HttpServletRequest req, Spool spool, long maxBody, BodyPace pace) throws IOException {
        long declared = req.getHeader("Content-Length") == null ? -1 : req.getContentLengthLong();
        if (declared >= 0) {
            return new RequestBody(declared == 0 ? null : pace.of(req.getInputStream()), declared, null,
                    Refusal.NONE, null, 0);
        }
        if (req.getHeader("Transfer-Encoding") == null) {
            return new RequestBody(null, -1, null, Refusal.NONE, null, 0); // no body at all
        }
        if (!spool.startUpload()) {
            return refused(Refusal.TOO_MANY_UPLOADS);
        }
        try {
            return spoolChunked(pace.of(req.getInputStream()), spool, maxBody);
        } finally {
            spool.endUpload();
        }
    }

    private static RequestBody spoolChunked(InputStream in, Spool spool, long maxBody) throws IOException {
        Path file = spool.newFile("body-");
        long total = 0;
        try (OutputStream out = Files.newOutputStream(file)) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (total + n > maxBody || !spool.reserve(n)) {
                    Refusal why = total + n > maxBody ? Refusal.TOO_LARGE : Refusal.SPOOL_FULL;
                    spool.release(total);
                    Files.deleteIfExists(file);
                    swallow(in, SWALLOW);
                    return refused(why);
                }
                total += n;
                out.write(buf, 0, n);
            }
        } catch (IOException | RuntimeException e) { // a container's 408 for a slow client may be unchecked
            spool.release(total);
            Files.deleteIfExists(file);
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        return new RequestBody(Files.newInputStream(file), total, file, Refusal.NONE, spool, total);
    }

    /**
     * Reads and drops up to {@code limit} more bytes of a body nobody will read, so a client still uploading
     * gets to read its answer instead of stalling with a full send window (Tomcat's maxSwallowSize). A larger
     * rest is left unread; the container then closes the connection.
     */
    private static void swallow(InputStream in, long limit) {
        byte[] buf = new byte[64 * 1024];
        long dropped = 0;
        try {
            int n;
            while (dropped < limit && (n = in.read(buf)) >= 0) {
                dropped += n;
            }
        } catch (IOException | RuntimeException clientGone) {
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

    Refusal refusal() {
        return refusal;
    }

    /**
     * A script may answer without reading its whole body. The rest (at most max-body, at no less than
     * body-min-rate) is read and dropped, so a client still uploading gets the response instead of a connection
     * reset. Call once the body pump has let go of the request stream, with no slot held.
     */
    void discardUnread(boolean scriptStoppedReading) {
        if (scriptStoppedReading && stream != null && spool == null) {
            swallow(stream, Long.MAX_VALUE);
        }
    }

    @Override
    public void close() throws IOException {
        if (spool != null) {
            stream.close();
            Files.deleteIfExists(spool);
            owner.release(reserved);
        }
    }
}
