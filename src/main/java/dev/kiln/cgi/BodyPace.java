package dev.kiln.cgi;

import java.io.InputStream;
import java.time.Duration;

/**
 * How fast a request body must come, as Apache's {@code mod_reqtimeout} has it ({@code body=20,MinRate=500}):
 * {@code grace} (body-timeout), plus a second for every {@code minRate} bytes sent (body-min-rate; 0 for none).
 */
public record BodyPace(Duration grace, long minRate) {
    InputStream of(InputStream in) {
        return new PacedBody(in, grace.toNanos(), minRate);
    }
}
