package dev.kiln.python;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.ScriptStatistics;
import dev.kiln.run.StderrFilter;

/**
 * One Python run's stderr as Kiln's loader shares it: the loader's marked lines are taken out, cache problems
 * go to the cache's health, and once stderr has closed the run is counted with the counters it reported.
 *
 * <p>Those lines come from the script's own process, which can write anything on its stderr: a problem counts
 * only once Kiln has confirmed it on a path inside its cache ({@link BytecodeCache#reported}), and counters are
 * capped at what one run can do.
 */
final class LoaderReport implements StderrFilter {
    /** More modules than any one program imports (Mercurial's hgweb: about 400). */
    static final long MAX_MODULES = 10_000;

    private final String script;
    private final Path scriptPath;
    private final ScriptStatistics statistics;
    private final BytecodeCache cache;
    private final TrustedCompiles compiles;
    private final long startNanos = System.nanoTime();
    private volatile LoaderProtocol.Message.Stats stats;
    private volatile TrustedCompiles.Compiled byKiln = TrustedCompiles.Compiled.NONE;
    private final List<LoaderProtocol.Message.Cold> cold = new ArrayList<>();
    private volatile Consumer<List<LoaderProtocol.Message.Cold>> coldSink;

    /**
     * @param script     the script's path below the scripts folder
     * @param scriptPath the script file, for Kiln to compile when its run compiled in memory
     */
    LoaderReport(String script, Path scriptPath, ScriptStatistics statistics, BytecodeCache cache,
                 TrustedCompiles compiles) {
        this.script = script;
        this.scriptPath = scriptPath;
        this.statistics = statistics;
        this.cache = cache;
        this.compiles = compiles;
    }

    /** Compiles Kiln made for this run before it started: counted as the run's. */
    void compiledByKiln(TrustedCompiles.Compiled compiled) {
        byKiln = compiled;
    }

    /** Where the modules a fork-server's child read itself go once its stderr has closed. */
    void onCold(Consumer<List<LoaderProtocol.Message.Cold>> sink) {
        coldSink = sink;
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
        } else if (m instanceof LoaderProtocol.Message.Cold c) {
            if (cold.size() < MAX_MODULES) {
                cold.add(c);
            }
        } else if (m instanceof LoaderProtocol.Message.CacheError e) {
            cache.reported(e.op(), e.errno(), e.path(), e.dir());
        }
        return marker == 0 ? null : line.substring(0, marker);
    }

    @Override
    public void closed() {
        Consumer<List<LoaderProtocol.Message.Cold>> sink = coldSink;
        if (sink != null && !cold.isEmpty()) {
            sink.accept(List.copyOf(cold));
        }
        LoaderProtocol.Message.Stats s = stats;
        TrustedCompiles.Compiled kiln = byKiln;
        if (s == null && kiln.modules() == 0) {
            statistics.recordRun(script);
            return;
        }
        long micros = (System.nanoTime() - startNanos) / 1000;
        long compiled = s == null ? 0 : cap(s.compiled(), MAX_MODULES);
        statistics.recordRun(script, compiled + kiln.modules(), s == null ? 0 : cap(s.cached(), MAX_MODULES),
                s == null ? 0 : cap(s.shipped(), MAX_MODULES), kiln.micros() + (s == null ? 0
                        : cap(s.compileMicros(), micros)));
        if (compiled > 0) {
            compiles.compiledInMemory(scriptPath);
        }
    }

    private static long cap(long value, long most) {
        return Math.max(0, Math.min(value, most));
    }
}
