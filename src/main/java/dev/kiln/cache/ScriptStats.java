package dev.kiln.cache;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Per-script cache counters, updated from the stats line Kiln's loader writes at exit. */
public final class ScriptStats {
    final LongAdder requests = new LongAdder();
    final LongAdder compiled = new LongAdder();
    final LongAdder cached = new LongAdder();
    final LongAdder shipped = new LongAdder();
    final LongAdder compileMicros = new LongAdder();
    final AtomicLong lastCompileEpochMillis = new AtomicLong();
    final AtomicLong lastCompiled = new AtomicLong(-1);

    /** An immutable copy for reports. */
    public record Snapshot(long requests, long compiled, long cached, long shipped, long compileMicros,
                           long lastCompileEpochMillis, long lastRequestCompiled) {
    }

    void record(long compiledNow, long cachedNow, long shippedNow, long micros) {
        compiled.add(compiledNow);
        cached.add(cachedNow);
        shipped.add(shippedNow);
        compileMicros.add(micros);
        lastCompiled.set(compiledNow);
        if (compiledNow > 0) {
            lastCompileEpochMillis.set(System.currentTimeMillis());
        }
    }

    public Snapshot snapshot() {
        return new Snapshot(requests.sum(), compiled.sum(), cached.sum(), shipped.sum(), compileMicros.sum(),
                lastCompileEpochMillis.get(), lastCompiled.get());
    }
}
