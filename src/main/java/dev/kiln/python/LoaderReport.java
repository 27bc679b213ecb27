package dev.kiln.python;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.ScriptStatistics;
import dev.kiln.run.StderrFilter;

/**
 * One Python run's stderr as Kiln's loader shares it: the loader's marked lines are taken out, cache problems
 * go to the cache's health, and once stderr has closed the run is counted with the counters it reported.
 */
final class LoaderReport implements StderrFilter {
    private final String script;
    private final ScriptStatistics statistics;
    private final BytecodeCache cache;
    private volatile LoaderProtocol.Message.Stats stats;

    /** @param script the script's path below the scripts folder */
    LoaderReport(String script, ScriptStatistics statistics, BytecodeCache cache) {
        this.script = script;
        this.statistics = statistics;
        this.cache = cache;
    }

    @Override
    public String line(String line) {
        int marker = LoaderProtocol.markerAt(line);
        if (marker < 0) {
            return line;
        }
        LoaderProtocol.Message m = LoaderProtocol.parse(line.substring(marker + LoaderProtocol.MARKER.length()));
        if (m instanceof LoaderProtocol.Message.Stats s) {
            stats = s;
        } else if (m instanceof LoaderProtocol.Message.CacheError e) {
            cache.reported(e.op(), e.errno(), e.path(), e.dir());
        }
        return marker == 0 ? null : line.substring(0, marker);
    }

    @Override
    public void closed() {
        LoaderProtocol.Message.Stats s = stats;
        if (s == null) {
            statistics.recordRun(script);
        } else {
            statistics.recordRun(script, s.compiled(), s.cached(), s.shipped(), s.compileMicros());
        }
    }
}
