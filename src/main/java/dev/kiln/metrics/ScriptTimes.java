package dev.kiln.metrics;

import java.util.Arrays;

/** One script's requests, server errors and its last latencies, for percentiles on the status page. */
final class ScriptTimes {
    private static final int KEPT = 1024;

    private final long[] nanos = new long[KEPT];
    private long requests;
    private long errors;
    private int next;

    synchronized void record(int status, long elapsedNanos) {
        requests++;
        if (status >= 500) {
            errors++;
        }
        nanos[next++ % KEPT] = elapsedNanos;
    }

    /** Percentiles are over the last {@value #KEPT} requests. */
    synchronized ScriptRequests snapshot() {
        int n = (int) Math.min(requests, KEPT);
        long[] sorted = Arrays.copyOf(nanos, n);
        Arrays.sort(sorted);
        return new ScriptRequests(requests, errors, percentile(sorted, 0.50), percentile(sorted, 0.95));
    }

    /** Nearest rank: the smallest value at least {@code p} of the values are at or below. */
    static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, rank - 1)] / 1e9;
    }
}
