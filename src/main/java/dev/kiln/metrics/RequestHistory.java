package dev.kiln.metrics;

import java.util.ArrayList;
import java.util.List;

/** Requests of the last hour, minute by minute: count, server errors and latency, for the status page chart. */
final class RequestHistory {
    static final int MINUTES = 60;

    private final long[] minute = new long[MINUTES];
    private final long[] count = new long[MINUTES];
    private final long[] errors = new long[MINUTES];
    private final long[] nanos = new long[MINUTES];
    private final long[] maxNanos = new long[MINUTES];

    synchronized void record(long epochMillis, int status, long elapsedNanos) {
        long m = epochMillis / 60_000;
        int i = (int) (m % MINUTES);
        if (minute[i] != m) {
            minute[i] = m;
            count[i] = 0;
            errors[i] = 0;
            nanos[i] = 0;
            maxNanos[i] = 0;
        }
        count[i]++;
        if (status >= 500) {
            errors[i]++;
        }
        nanos[i] += elapsedNanos;
        maxNanos[i] = Math.max(maxNanos[i], elapsedNanos);
    }

    /** The 60 minutes up to {@code nowMillis}, oldest first, empty minutes included. */
    synchronized List<MinuteRequests> lastHour(long nowMillis) {
        long now = nowMillis / 60_000;
        List<MinuteRequests> out = new ArrayList<>(MINUTES);
        for (long m = now - MINUTES + 1; m <= now; m++) {
            int i = (int) (m % MINUTES);
            if (minute[i] == m && count[i] > 0) {
                out.add(new MinuteRequests(m, count[i], errors[i], nanos[i] / 1e9 / count[i], maxNanos[i] / 1e9));
            } else {
                out.add(new MinuteRequests(m, 0, 0, 0, 0));
            }
        }
        return out;
    }
}
