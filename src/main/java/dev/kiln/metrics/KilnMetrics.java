package dev.kiln.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

/**
 * Kiln's metrics: a registry of its own (never the client's global one, so two Kilns in one JVM, as in tests
 * or two webapps, do not share series), the request counters and latency histogram recorded here, Kiln's
 * other counters read from {@link MetricSources} at each scrape, and the JVM's standard metrics.
 */
public final class KilnMetrics {
    /** Distinct script labels before the rest are counted as {@link ScriptLabels#OTHER}. */
    public static final int SCRIPT_LABELS = 200;
    private static final double[] LATENCY_BOUNDS = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ExpositionFormats formats = ExpositionFormats.init();
    private final ScriptLabels labels = new ScriptLabels(SCRIPT_LABELS);
    private final Map<String, ScriptTimes> scripts = new ConcurrentHashMap<>();
    private final RequestHistory history = new RequestHistory();
    private final Counter requests;
    private final Histogram latency;

    public KilnMetrics(MetricSources sources) {
        requests = Counter.builder().name("kiln_requests_total")
                .help("Requests answered, by script (path below the scripts folder) and HTTP status")
                .labelNames("script", "status").withoutExemplars().register(registry);
        latency = Histogram.builder().name("kiln_request_duration_seconds").unit(Unit.SECONDS)
                .help("Time from a request's arrival to its last byte, by script")
                .labelNames("script").classicOnly().classicUpperBounds(LATENCY_BOUNDS).withoutExemplars()
                .register(registry);
        counter("kiln_modules_compiled_total", "Modules scripts' loaders compiled", sources.modulesCompiled());
        counter("kiln_cache_misses_total", "Modules not fresh in the cache, so compiled", sources.modulesCompiled());
        counter("kiln_cache_hits_total", "Modules loaded from cached or shipped bytecode", sources.cacheHits());
        CounterWithCallback.builder().name("kiln_compile_seconds_total").unit(Unit.SECONDS)
                .help("Time scripts' loaders spent compiling")
                .callback(c -> c.call(sources.compileMicros().getAsLong() / 1e6)).register(registry);
        counter("kiln_cache_write_failures_total", "Problems scripts met writing under the cache",
                sources.cacheWriteFailures());
        gauge("kiln_scripts_running", "Scripts holding a slot now", sources.running());
        gauge("kiln_queue_length", "Requests waiting for a free slot now", sources.queued());
        counter("kiln_rejections_total", "Requests refused with 503: every slot and the queue taken",
                sources.rejected());
        CounterWithCallback.builder().name("kiln_scripts_stopped_total")
                .help("Scripts Kiln stopped, by reason (idle-timeout and timeout are the timeouts)")
                .labelNames("reason")
                .callback(c -> sources.stops().get().forEach((reason, n) -> c.call(n, reason)))
                .register(registry);
        counter("kiln_script_kills_total", "Scripts still running after the kill grace, so sent SIGKILL",
                sources.kills());
        counter("kiln_forkserver_restarts_total", "Fork-servers started again after one died",
                sources.forkServerRestarts());
        JvmMetrics.builder().register(registry);
    }

    private void counter(String name, String help, LongSupplier value) {
        CounterWithCallback.builder().name(name).help(help).callback(c -> c.call(value.getAsLong()))
                .register(registry);
    }

    private void gauge(String name, String help, LongSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(c -> c.call(value.getAsLong()))
                .register(registry);
    }

    /**
     * One answered request.
     *
     * @param script the script's path below the scripts folder, or null when none was found
     */
    public void record(String script, int status, long elapsedNanos) {
        String label = labels.label(script);
        requests.labelValues(label, Integer.toString(status)).inc();
        latency.labelValues(label).observe(elapsedNanos / 1e9);
        if (script != null) {
            scripts.computeIfAbsent(label, k -> new ScriptTimes()).record(status, elapsedNanos);
        }
        history.record(System.currentTimeMillis(), status, elapsedNanos);
    }

    /** Per script label, sorted: requests, errors and latency percentiles. */
    public Map<String, ScriptRequests> scripts() {
        Map<String, ScriptRequests> out = new TreeMap<>();
        scripts.forEach((name, times) -> out.put(name, times.snapshot()));
        return out;
    }

    /** The last 60 minutes, oldest first. */
    public List<MinuteRequests> lastHour() {
        return history.lastHour(System.currentTimeMillis());
    }

    /**
     * Writes every metric in the format the client's Accept header asks for (OpenMetrics or the Prometheus
     * text format; protobuf is not built in, so text answers a client asking for it).
     *
     * @return the Content-Type of what was written
     */
    public String write(String accept, OutputStream out) throws IOException {
        ExpositionFormatWriter writer = formats.findWriter(accept);
        if (!writer.isAvailable()) {
            writer = formats.getPrometheusTextFormatWriter();
        }
        writer.write(out, registry.scrape());
        return writer.getContentType();
    }
}
