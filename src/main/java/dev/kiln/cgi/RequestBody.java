package dev.kiln.cgi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request body as the script will read it. A body with a Content-Length is streamed straight through,
 * never held in memory. A chunked body has no length, but CGI needs CONTENT_LENGTH, so it is spooled to a
 * file of {@link SpoolFolder}'s first, up to the body limit, while the {@link Spool} has room for one more upload
 * and its bytes, and read back through the same open file.
 */
final class RequestBody implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.cgi");

    /** How much of an over-limit body is read and dropped before the connection is given up. */
    static final long SWALLOW = 2L << 20;

    /** Why a body is not there for the script. */
    enum Refusal { NONE, TOO_LARGE, TOO_MANY_UPLOADS, SPOOL_FULL }

    private final InputStream stream;
    private final long length;
    private final FileChannel spool;
    private final Refusal refusal;
    private final Spool owner;
    private final long reserved;

    private RequestBody(InputStream stream, long length, FileChannel spool, Refusal refusal, Spool owner,
                        long reserved) {
        this.stream = stream;
        this.length = length;
        this.spool = spool;
        this.refusal = refusal;
        this.owner = owner;
        this.reserved = reserved;
    }

    /** The request body ready for the script, or null when the request has been answered instead. */
    static RequestBody forScript(HttpServletRequest req, HttpServletResponse resp, Spool spool, long maxBody,
                                 BodyPace pace) throws IOException {
        String method = req.getMethod();
        String requestPath = req.getRequestURI();
        if ("HTTP/1.0".equals(req.getProtocol()) && req.getHeader("Transfer-Encoding") != null) {
            LOG.warn("{} {}: 400, an HTTP/1.0 request with Transfer-Encoding has no reliable length (RFC 9112 "
                    + "6.1)", method, requestPath);
            resp.setHeader("Connection", "close");
            ErrorPage.send(resp, 400, requestPath);
            return null;
        }
        RequestBody body;
        try {
            body = of(req, spool, maxBody, pace);
        } catch (IOException e) {
            LOG.warn("{} {}: 408, the client stopped sending its chunked body ({}); slow or stalled clients are "
                    + "cut by body-timeout and body-min-rate", method, requestPath, e.getMessage());
            resp.setHeader("Connection", "close");
            ErrorPage.send(resp, 408, requestPath);
            return null;
        }
        switch (body.refusal()) {
            case NONE -> {
                return body;
            }
            case TOO_LARGE -> LOG.warn("{} {}: 413, chunked body over max-body {}; fix: raise max-body if this is "
                    + "expected", method, requestPath, maxBody);
            case TOO_MANY_UPLOADS -> {
                LOG.warn("{} {}: 503, {} chunked uploads are being spooled already (max-uploads): slow or many "
                        + "uploading clients, not busy scripts; fix: raise max-uploads if they are legitimate",
                        method, requestPath, spool.maxUploads());
                resp.setHeader("Retry-After", "1");
            }
            case SPOOL_FULL -> {
                LOG.warn("{} {}: 503, the spool is full ({} of max-spool {} bytes in use by uploads and buffered "
                        + "responses of slow clients); fix: raise max-spool", method, requestPath,
                        spool.used(), spool.budget());
                resp.setHeader("Retry-After", "1");
            }
        }
        resp.setHeader("Connection", "close"); // the body is not all read: this connection cannot go on
        ErrorPage.send(resp, body.refusal() == Refusal.TOO_LARGE ? 413 : 503, requestPath);
        body.close();
        return null;
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
        FileChannel file = spool.newFile("body-");
        long total = 0;
        try {
            OutputStream out = Channels.newOutputStream(file);
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (total + n > maxBody || !spool.reserve(n)) {
                    Refusal why = total + n > maxBody ? Refusal.TOO_LARGE : Refusal.SPOOL_FULL;
                    spool.release(total);
                    file.close();
                    swallow(in, SWALLOW);
                    return refused(why);
                }
                total += n;
                out.write(buf, 0, n);
            }
            file.position(0);
        } catch (IOException | RuntimeException e) { // a container's 408 for a slow client may be unchecked
            spool.release(total);
            file.close();
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        return new RequestBody(Channels.newInputStream(file), total, file, Refusal.NONE, spool, total);
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
            spool.close(); // the file was unlinked when it was made: closing frees it
            owner.release(reserved);
        }
    }
}
