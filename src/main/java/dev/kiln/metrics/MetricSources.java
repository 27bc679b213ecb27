package dev.kiln.metrics;

import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The counters Kiln's parts keep themselves, read at each scrape.
 *
 * @param modulesCompiled    modules compiled by scripts' loaders (each one a cache miss)
 * @param cacheHits          modules loaded from the cache or from shipped bytecode
 * @param compileMicros      time spent compiling, microseconds
 * @param cacheWriteFailures problems scripts' loaders met writing under the cache
 * @param running            scripts holding a slot now
 * @param queued             requests waiting for a slot now
 * @param rejected           requests refused with 503 because every slot and the queue were taken
 * @param stops              scripts Kiln stopped, by reason (idle-timeout, timeout, client-gone, server-stopping)
 * @param kills              scripts that needed SIGKILL after the grace period
 * @param forkServerRestarts fork-servers started again after one died
 */
public record MetricSources(LongSupplier modulesCompiled, LongSupplier cacheHits, LongSupplier compileMicros,
                            LongSupplier cacheWriteFailures, LongSupplier running, LongSupplier queued,
                            LongSupplier rejected, Supplier<Map<String, Long>> stops, LongSupplier kills,
                            LongSupplier forkServerRestarts) {
}
