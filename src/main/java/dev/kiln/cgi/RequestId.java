package dev.kiln.cgi;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * Each request's id: in {@code X-Request-Id} on the response, in the script's environment as {@code UNIQUE_ID}
 * (Apache mod_unique_id's name), and in every log line about the request (the logging context's
 * {@value #LOG_KEY}). A client's own id is reused only when the operator trusts the proxy that sets it.
 */
public final class RequestId {
    /** The request attribute holding the id. */
    public static final String ATTRIBUTE = "dev.kiln.requestId";
    public static final String HEADER = "X-Request-Id";
    /** The key of the id in the logging context (MDC), which log patterns name as {@code %X{request}}. */
    public static final String LOG_KEY = "request";
    /** Same for the script's pid, in the lines of its stderr. */
    public static final String PID_KEY = "pid";
    /** What may come from a client: short, and nothing that could forge a log line. */
    private static final Pattern ACCEPTED = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final SecureRandom random = new SecureRandom();
    private final boolean trustIncoming;

    public RequestId(boolean trustIncoming) {
        this.trustIncoming = trustIncoming;
    }

    /** The id for a request that came with {@code incoming} (its X-Request-Id header, or null). */
    public String assign(String incoming) {
        if (trustIncoming && incoming != null && ACCEPTED.matcher(incoming).matches()) {
            return incoming;
        }
        byte[] b = new byte[15];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
