package dev.kiln;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.ScriptStatistics;
import dev.kiln.metrics.MetricSources;
import dev.kiln.python.ForkServers;
import dev.kiln.run.RunLimiter;
import dev.kiln.run.ScriptProcess;
import dev.kiln.run.ScriptRunner;

/** Where each of Kiln's metrics is read from: the counters its parts keep. */
final class KilnMeters {
    private KilnMeters() {
    }

    static MetricSources of(ScriptStatistics statistics, BytecodeCache cache, RunLimiter limiter,
                            ScriptRunner runner, ForkServers forkServers) {
        return new MetricSources(
                () -> statistics.totals().compiled(),
                () -> statistics.totals().cached() + statistics.totals().shipped(),
                () -> statistics.totals().compileMicros(),
                cache::writeFailures,
                limiter::running,
                limiter::waiting,
                limiter::rejected,
                () -> {
                    Map<String, Long> out = new LinkedHashMap<>();
                    runner.stops().forEach((reason, n) -> out.put(word(reason), n));
                    return out;
                },
                runner::kills,
                () -> forkServers.status().stream().mapToLong(ForkServers.Entry::restarts).sum());
    }

    /** The reason label: what the options and logs call it. */
    private static String word(ScriptProcess.Stop reason) {
        return switch (reason) {
            case IDLE_TIMEOUT -> "idle-timeout";
            case TOTAL_TIMEOUT -> "timeout";
            case CLIENT_GONE -> "client-gone";
            case SERVER_STOPPING -> "server-stopping";
        };
    }
}
