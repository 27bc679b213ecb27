package dev.kiln.jvm;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Per Java script, keyed by its path below the scripts folder: requests, compiles and its AOT cache's state. */
public final class JavaStatistics {
    private final Map<String, Counters> scripts = new ConcurrentHashMap<>();

    /** An immutable copy for the status page. */
    public record Snapshot(long requests, long compiles, long compileErrors, long compileMillis, String jdk,
                           String aot) {
    }

    /** One script's live counters. */
    static final class Counters {
        final LongAdder requests = new LongAdder();
        final LongAdder compiles = new LongAdder();
        final LongAdder compileErrors = new LongAdder();
        final LongAdder compileMillis = new LongAdder();
        volatile String jdk = "";
        volatile String aot = "none";

        Snapshot snapshot() {
            return new Snapshot(requests.sum(), compiles.sum(), compileErrors.sum(), compileMillis.sum(), jdk, aot);
        }
    }

    Counters of(String script) {
        return scripts.computeIfAbsent(script, k -> new Counters());
    }

    /** Every Java script seen so far, sorted by path. */
    public Map<String, Snapshot> all() {
        Map<String, Snapshot> m = new TreeMap<>();
        scripts.forEach((k, v) -> m.put(k, v.snapshot()));
        return m;
    }
}
