package dev.kiln.python;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kiln's side of the cache when scripts run as another user: a script's loader only reads the cache, so before a
 * script runs for the first time Kiln compiles it and the modules it imports (found from its import statements, as
 * {@code precompile} does), as Kiln's user, once however many requests arrive together. A run that still had to
 * compile in memory (an edited module) has the next run compile first, at most once per
 * {@link #MIN_INTERVAL_NANOS}: whatever a script says about itself costs at most that.
 */
public final class TrustedCompiles {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.python");
    static final long MIN_INTERVAL_NANOS = 2_000_000_000L;

    private final Function<Path, Precompiler> precompiler;
    private final boolean enabled;
    private final Map<Path, State> states = new ConcurrentHashMap<>();

    /** Whether a script's bytecode is known fresh, and when Kiln last compiled it. */
    private static final class State {
        volatile boolean fresh;
        volatile long compiledAt;
    }

    /** What Kiln compiled before one run: the run's counters include it. */
    record Compiled(long modules, long micros) {
        static final Compiled NONE = new Compiled(0, 0);
    }

    /**
     * @param precompiler the precompiler of a script's folder
     * @param enabled     whether scripts run as another user (else they write the cache themselves)
     */
    public TrustedCompiles(Function<Path, Precompiler> precompiler, boolean enabled) {
        this.precompiler = precompiler;
        this.enabled = enabled;
    }

    /** Before {@code script} runs: compiles it on Kiln's side unless its bytecode is known fresh. */
    Compiled beforeRun(Path script) {
        if (!enabled) {
            return Compiled.NONE;
        }
        State s = states.computeIfAbsent(script, k -> new State());
        if (s.fresh) {
            return Compiled.NONE;
        }
        synchronized (s) {
            if (s.fresh) {
                return Compiled.NONE; // compiled by the request it waited for
            }
            long start = System.nanoTime();
            try {
                Precompiler.Summary summary = precompiler.apply(script).compile(script);
                summary.failures().forEach(f -> LOG.warn("compiling {} for the cache: {}", script, f));
                return new Compiled(summary.compiled(), (System.nanoTime() - start) / 1000);
            } catch (IOException e) {
                LOG.warn("compiling {} for the cache failed: {}; it runs compiled in memory", script, e.toString());
                return Compiled.NONE;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Compiled.NONE;
            } finally {
                s.compiledAt = System.nanoTime();
                s.fresh = true;
            }
        }
    }

    /** A run of {@code script} compiled modules in memory: the next run compiles first, unless Kiln just did. */
    void compiledInMemory(Path script) {
        State s = states.get(script);
        if (s != null && System.nanoTime() - s.compiledAt >= MIN_INTERVAL_NANOS) {
            s.fresh = false;
        }
    }
}
