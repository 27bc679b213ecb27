package dev.kiln.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.kiln.Kiln;
import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.CacheProblem;
import dev.kiln.cache.ScriptStats;
import dev.kiln.forkserver.ForkServerStatus;
import dev.kiln.jvm.JavaStatistics;
import dev.kiln.jvm.Jdk;
import dev.kiln.metrics.MinuteRequests;
import dev.kiln.metrics.ScriptRequests;
import dev.kiln.python.ForkServers;
import dev.kiln.python.PythonInterpreter;
import dev.kiln.run.ScriptRunner;

/**
 * {@code GET /kiln/status}: the cache's folder and health, the interpreters and their tags, and per script the
 * request, compile and cache-hit counters. Built from counters in memory; it touches no file.
 */
public class StatusServlet extends KilnServlet {
    /** For a WAR: finds the Kiln the CGI servlet built. */
    public StatusServlet() {
        super(null);
    }

    public StatusServlet(Kiln kiln) {
        super(kiln);
    }

    @Override
    void get(Kiln k, HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (admitted(k, req, resp)) {
            send(resp, 200, "application/json", render(k).getBytes(StandardCharsets.UTF_8));
        }
    }

    static String render(Kiln k) {
        BytecodeCache cache = k.cache();
        StringBuilder b = new StringBuilder(1024);
        b.append("{\n  \"version\": ").append(Json.string(Kiln.VERSION));
        b.append(",\n  \"scripts\": ").append(Json.string(k.folders().primary().toString()));
        var limiter = k.host().settings().limiter();
        b.append(",\n  \"scriptsRunning\": ").append(limiter.running())
                .append(", \"scriptsWaiting\": ").append(limiter.waiting())
                .append(", \"maxConcurrent\": ").append(limiter.maxRunning());
        b.append(",\n  \"cache\": {\"folder\": ").append(Json.string(cache.root().toString()));
        b.append(", \"prefix\": ").append(Json.string(cache.prefix().toString()));
        String mode = cache.mode().word();
        b.append(", \"mode\": ").append(Json.string(mode));
        b.append(", \"writable\": ").append(mode.equals("rw"));
        b.append(", \"healthy\": ").append(mode.equals("rw") && cache.problems().isEmpty());
        b.append(", \"lastError\": ").append(Json.string(cache.lastError()));
        b.append(", \"problems\": [");
        String sep = "";
        for (CacheProblem p : cache.problems()) {
            b.append(sep).append("{\"op\": ").append(Json.string(p.op().word())).append(", \"errno\": ")
                    .append(Json.string(p.errno())).append(", \"path\": ").append(Json.string(p.path().toString()))
                    .append(", \"description\": ").append(Json.string(cache.describe(p))).append("}");
            sep = ", ";
        }
        b.append("]},\n  \"interpreters\": [");
        sep = "";
        for (PythonInterpreter p : k.interpreters().known()) {
            b.append(sep).append("\n    {\"command\": ").append(Json.string(p.command()))
                    .append(", \"executable\": ").append(Json.string(p.executable().toString()))
                    .append(", \"version\": ").append(Json.string(p.version()))
                    .append(", \"cacheTag\": ").append(Json.string(p.cacheTag()))
                    .append(", \"cached\": ").append(p.cacheable()).append("}");
            sep = ",";
        }
        b.append("\n  ],\n  \"runMode\": ").append(Json.string(k.config().interpreters().runMode().word()));
        b.append(",\n  \"forkServers\": [").append(forkServers(k));
        b.append("\n  ],\n  \"jdks\": [").append(jdks(k));
        b.append("\n  ],\n  \"javaScripts\": ").append(javaScripts(k));
        String stats = scriptsStats(k);
        b.append(",\n  \"scriptsStats\": ").append(stats);
        b.append(",\n  \"requests\": ").append(requests(k));
        b.append(",\n  \"lastHour\": ").append(lastHour(k));
        b.append(",\n  \"runningNow\": ").append(runningNow(k));
        // Deprecated: the same object under its first, snake_case name, for one release; the next one drops it.
        b.append(",\n  \"scripts_stats\": ").append(stats);
        b.append("\n}\n");
        return b.toString();
    }

    /** Each fork-server Kiln has started: the one running now, its restarts, whether Python runs classic. */
    private static String forkServers(Kiln k) {
        StringBuilder b = new StringBuilder();
        String sep = "";
        for (ForkServers.Entry e : k.forkServers().status()) {
            b.append(sep).append("\n    {\"interpreter\": ").append(Json.string(e.interpreter()));
            e.server().ifPresent(s -> b.append(", \"pid\": ").append(s.pid())
                    .append(", \"uptimeSeconds\": ").append(s.uptime().toSeconds())
                    .append(", \"childrenServed\": ").append(s.childrenServed())
                    .append(", \"running\": ").append(s.running()));
            b.append(", \"alive\": ").append(e.server().map(ForkServerStatus::alive).orElse(false))
                    .append(", \"restarts\": ").append(e.restarts())
                    .append(", \"classicNow\": ").append(e.classicNow())
                    .append(", \"lastFailure\": ").append(Json.string(e.lastFailure())).append("}");
            sep = ",";
        }
        return b.toString();
    }

    /** Each JDK found: its real java, version and the start-up cache it builds. */
    private static String jdks(Kiln k) {
        StringBuilder b = new StringBuilder();
        String sep = "";
        for (Jdk j : k.java().jdks().known()) {
            b.append(sep).append("\n    {\"command\": ").append(Json.string(j.command()))
                    .append(", \"java\": ").append(Json.string(j.java().toString()))
                    .append(", \"version\": ").append(Json.string(j.version()))
                    .append(", \"startupCache\": ").append(Json.string(j.aotKind().extension())).append("}");
            sep = ",";
        }
        return b.toString();
    }

    /** Per Java script, sorted by path: requests, compiles and the state of its start-up cache. */
    private static String javaScripts(Kiln k) {
        StringBuilder b = new StringBuilder(256).append('{');
        String sep = "";
        for (Map.Entry<String, JavaStatistics.Snapshot> e : k.java().statistics().entrySet()) {
            JavaStatistics.Snapshot s = e.getValue();
            b.append(sep).append("\n    ").append(Json.string(e.getKey())).append(": {")
                    .append("\"requests\": ").append(s.requests())
                    .append(", \"compiles\": ").append(s.compiles())
                    .append(", \"compileErrors\": ").append(s.compileErrors())
                    .append(", \"compileMillis\": ").append(s.compileMillis())
                    .append(", \"jdk\": ").append(Json.string(s.jdk()))
                    .append(", \"aot\": ").append(Json.string(s.aot())).append("}");
            sep = ",";
        }
        return b.append("\n  }").toString();
    }

    /** Per script (label), sorted: requests answered, 5xx among them, median and 95th percentile latency. */
    private static String requests(Kiln k) {
        StringBuilder b = new StringBuilder(512).append('{');
        String sep = "";
        for (Map.Entry<String, ScriptRequests> e : k.metrics().scripts().entrySet()) {
            ScriptRequests r = e.getValue();
            b.append(sep).append("\n    ").append(Json.string(e.getKey())).append(": {\"requests\": ")
                    .append(r.requests()).append(", \"errors\": ").append(r.errors())
                    .append(", \"p50Millis\": ").append(millis(r.p50Seconds()))
                    .append(", \"p95Millis\": ").append(millis(r.p95Seconds())).append("}");
            sep = ",";
        }
        return b.append("\n  }").toString();
    }

    /** Milliseconds with one decimal, as the status page shows them. */
    static String millis(double seconds) {
        return String.format(Locale.ROOT, "%.1f", seconds * 1000);
    }

    private static String lastHour(Kiln k) {
        StringBuilder b = new StringBuilder(4096).append('[');
        String sep = "";
        for (MinuteRequests m : k.metrics().lastHour()) {
            b.append(sep).append("{\"minute\": ").append(Json.string(Instant.ofEpochSecond(m.epochMinute() * 60)
                    .toString())).append(", \"requests\": ").append(m.requests()).append(", \"errors\": ")
                    .append(m.errors()).append(", \"meanMillis\": ").append(millis(m.meanSeconds()))
                    .append(", \"maxMillis\": ").append(millis(m.maxSeconds())).append('}');
            sep = ",\n    ";
        }
        return b.append(']').toString();
    }

    private static String runningNow(Kiln k) {
        StringBuilder b = new StringBuilder().append('[');
        String sep = "";
        for (ScriptRunner.Running r : k.runningNow()) {
            b.append(sep).append("{\"script\": ").append(Json.string(r.script())).append(", \"pid\": ")
                    .append(r.pid()).append(", \"elapsedMillis\": ").append(r.elapsedMillis()).append('}');
            sep = ", ";
        }
        return b.append(']').toString();
    }

    /** Per script, sorted by path: request, compile and cache-hit counters. */
    private static String scriptsStats(Kiln k) {
        StringBuilder b = new StringBuilder(512).append('{');
        String sep = "";
        Map<String, ScriptStats> sorted = new TreeMap<>(k.statistics().all());
        for (Map.Entry<String, ScriptStats> e : sorted.entrySet()) {
            ScriptStats.Snapshot s = e.getValue().snapshot();
            b.append(sep).append("\n    ").append(Json.string(e.getKey())).append(": {")
                    .append("\"requests\": ").append(s.requests())
                    .append(", \"modulesCompiled\": ").append(s.compiled())
                    .append(", \"cacheHits\": ").append(s.cached())
                    .append(", \"shippedHits\": ").append(s.shipped())
                    .append(", \"compileMillis\": ").append(s.compileMicros() / 1000)
                    .append(", \"lastRequestCompiled\": ").append(s.lastRequestCompiled())
                    .append(", \"lastCompile\": ").append(s.lastCompileEpochMillis() == 0 ? "null"
                            : Json.string(Instant.ofEpochMilli(s.lastCompileEpochMillis()).toString()))
                    .append("}");
            sep = ",";
        }
        return b.append("\n  }").toString();
    }
}
