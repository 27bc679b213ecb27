package dev.kiln.cgi;

/**
 * Requests refused under overload, logged as a summary: the first of a burst at once, then at most one line per
 * interval saying how many more were refused, so an overload cannot flood the log (the metrics count each).
 */
final class RefusalLog {
    private static final long INTERVAL_NANOS = 10_000_000_000L;

    private boolean started;
    private long windowStart;
    private long suppressed;

    /** For a refusal now: the suffix to log it with (the count since the last line), or null to stay quiet. */
    synchronized String refused(long nowNanos) {
        if (started && nowNanos - windowStart < INTERVAL_NANOS) {
            suppressed++;
            return null;
        }
        String more = suppressed == 0 ? "" : "; " + suppressed + " more refused since the last such line";
        started = true;
        windowStart = nowNanos;
        suppressed = 0;
        return more;
    }
}
