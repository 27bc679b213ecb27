package dev.kiln.server;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.RequestLog;
import org.eclipse.jetty.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request under the logger {@code kiln.access}: Apache's combined format, {@code -} for every
 * absent field (Jetty's own writes {@code ""} for a missing Referer), then the time taken in milliseconds and the
 * request id, so a line leads to every log line about its request.
 */
final class AccessLog implements RequestLog {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.access");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT)
            .withZone(ZoneId.systemDefault());

    @Override
    public void log(Request request, Response response) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - request.getBeginNanoTime());
        String line = Request.getRemoteAddr(request) + " - - [" + TIME.format(Instant.ofEpochMilli(
                Request.getTimeStamp(request))) + "] \"" + request.getMethod() + " "
                + request.getHttpURI().getPathQuery() + " " + request.getConnectionMetaData().getProtocol() + "\" "
                + response.getStatus() + " " + Response.getContentBytesWritten(response) + " "
                + quoted(request.getHeaders().get("Referer")) + " " + quoted(request.getHeaders().get("User-Agent"))
                + " " + millis + " " + dash(response.getHeaders().get("X-Request-Id"));
        LOG.info("{}", line);
    }

    private static String quoted(String value) {
        if (value == null || value.isEmpty()) {
            return "\"-\"";
        }
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String dash(String value) {
        return value == null || value.isEmpty() ? "-" : value;
    }
}
