package dev.kiln.cache;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-script cache counters, keyed by the script's path below the scripts folder. A run is recorded once it
 * has ended and its loader's report is known, never when it is planned.
 */
public final class ScriptStatistics {
    private final Map<String, ScriptStats> stats = new ConcurrentHashMap<>();

    /** Counters of one script. */
    public ScriptStats stats(String script) {
        return stats.computeIfAbsent(script, k -> new ScriptStats());
    }

    /** A run that ended without a report (killed, or a crash before the loader could write it). */
    public void recordRun(String script) {
        stats(script).requests.increment();
    }

    /** A run that ended with its loader's counters. */
    public void recordRun(String script, long compiled, long cached, long shipped, long compileMicros) {
        ScriptStats s = stats(script);
        s.requests.increment();
        s.record(compiled, cached, shipped, compileMicros);
    }

    /** Every script's counters added up (the last-compile fields are the latest of any script). */
    public ScriptStats.Snapshot totals() {
        long requests = 0;
        long compiled = 0;
        long cached = 0;
        long shipped = 0;
        long micros = 0;
        long last = 0;
        for (ScriptStats s : stats.values()) {
            ScriptStats.Snapshot n = s.snapshot();
            requests += n.requests();
            compiled += n.compiled();
            cached += n.cached();
            shipped += n.shipped();
            micros += n.compileMicros();
            last = Math.max(last, n.lastCompileEpochMillis());
        }
        return new ScriptStats.Snapshot(requests, compiled, cached, shipped, micros, last, -1);
    }

    public Map<String, ScriptStats> all() {
        return Map.copyOf(stats);
    }
}
