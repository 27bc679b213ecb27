package dev.kiln.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.kiln.Kiln;
import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.CacheProblem;
import dev.kiln.cache.ScriptStats;
import dev.kiln.cgi.ErrorPage;
import dev.kiln.forkserver.ForkServerStatus;
import dev.kiln.metrics.ScriptRequests;
import dev.kiln.python.ForkServers;
import dev.kiln.python.PythonInterpreter;
import dev.kiln.run.ScriptRunner;

/**
 * {@code GET /kiln/}: the status page people look at. Plain HTML that refreshes itself (no JavaScript), from the
 * same counters as {@code /kiln/status}; each figure carries a {@code data-figure} name so tools can read it.
 */
public class StatusPage extends KilnServlet {
    private static final int REFRESH_SECONDS = 10;

    /** For a WAR: finds the Kiln the CGI servlet built. */
    public StatusPage() {
        super(null);
    }

    public StatusPage(Kiln kiln) {
        super(kiln);
    }

    @Override
    void get(Kiln k, HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (admitted(k, req, resp)) {
            byte[] page = render(k, ForwardedPrefix.base(req)).getBytes(StandardCharsets.UTF_8);
            send(resp, 200, "text/html;charset=utf-8", page);
        }
    }

    static String render(Kiln k, String context) {
        StringBuilder b = new StringBuilder(16 * 1024);
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"refresh\" ")
                .append("content=\"").append(REFRESH_SECONDS).append("\">\n<title>Kiln status</title>\n<style>")
                .append("body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;")
                .append("margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}")
                .append("td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#eee}")
                .append(".bad{color:#b00}.ok{color:#070}code{color:#444}</style></head><body>\n");
        List<String> notReady = HealthServlet.notReady(k);
        b.append("<h1>Kiln ").append(esc(Kiln.VERSION)).append(" <span data-figure=\"ready\" class=\"")
                .append(notReady.isEmpty() ? "ok\">ready" : "bad\">not ready: " + esc(String.join("; ", notReady)))
                .append("</span></h1>\n<p>Refreshes every ").append(REFRESH_SECONDS).append(" s. Also: <a href=\"")
                .append(esc(context)).append("/kiln/status\">JSON</a>, <a href=\"").append(esc(context))
                .append("/kiln/metrics\">metrics</a>.</p>\n");
        cache(b, k.cache());
        b.append("<h2>Requests, last hour</h2>\n").append(RequestChart.svg(k.metrics().lastHour()));
        scripts(b, k);
        running(b, k.runningNow());
        interpreters(b, k);
        b.append("</body></html>\n");
        return b.toString();
    }

    private static void cache(StringBuilder b, BytecodeCache cache) {
        String mode = cache.mode().word();
        boolean healthy = mode.equals("rw") && cache.problems().isEmpty();
        b.append("<h2>Cache</h2>\n<p>Folder <code data-figure=\"cache-folder\">").append(esc(cache.root().toString()))
                .append("</code>, mode <b data-figure=\"cache-mode\">").append(mode).append("</b>, <span ")
                .append("data-figure=\"cache-healthy\" class=\"").append(healthy ? "ok\">healthy" : "bad\">unhealthy")
                .append("</span>.</p>\n");
        List<CacheProblem> problems = cache.problems();
        if (problems.isEmpty()) {
            b.append("<p>No cache or permission problems now.</p>\n");
            return;
        }
        b.append("<h3>Cache and permission problems</h3>\n<ul data-figure=\"problems\">\n");
        for (CacheProblem p : problems) {
            b.append("<li class=\"bad\">").append(esc(cache.describe(p))).append("</li>\n");
        }
        b.append("</ul>\n");
    }

    private static void scripts(StringBuilder b, Kiln k) {
        Map<String, ScriptRequests> requests = k.metrics().scripts();
        Map<String, ScriptStats> loads = new TreeMap<>(k.statistics().all());
        TreeMap<String, Boolean> names = new TreeMap<>();
        requests.keySet().forEach(n -> names.put(n, true));
        loads.keySet().forEach(n -> names.put(n, true));
        b.append("<h2>Scripts</h2>\n<table id=\"scripts\"><tr><th>script</th><th>requests</th><th>errors (5xx)</th>")
                .append("<th>p50 ms</th><th>p95 ms</th><th>modules compiled</th><th>modules from cache</th>")
                .append("<th>last compile</th></tr>\n");
        for (String name : names.keySet()) {
            ScriptRequests r = requests.getOrDefault(name, new ScriptRequests(0, 0, 0, 0));
            ScriptStats.Snapshot s = loads.containsKey(name) ? loads.get(name).snapshot() : null;
            b.append("<tr><td><code>").append(esc(name)).append("</code></td>")
                    .append(cell(name, "requests", Long.toString(r.requests())))
                    .append(cell(name, "errors", Long.toString(r.errors())))
                    .append(cell(name, "p50", StatusServlet.millis(r.p50Seconds())))
                    .append(cell(name, "p95", StatusServlet.millis(r.p95Seconds())))
                    .append(cell(name, "compiled", s == null ? "-" : Long.toString(s.compiled())))
                    .append(cell(name, "cached", s == null ? "-" : Long.toString(s.cached() + s.shipped())))
                    .append("<td>").append(s == null || s.lastCompileEpochMillis() == 0 ? "-"
                            : Instant.ofEpochMilli(s.lastCompileEpochMillis()).toString()).append("</td></tr>\n");
        }
        b.append("</table>\n");
    }

    private static String cell(String script, String figure, String value) {
        return "<td class=\"n\" data-figure=\"" + figure + ":" + esc(script) + "\">" + value + "</td>";
    }

    private static void running(StringBuilder b, List<ScriptRunner.Running> running) {
        b.append("<h2>Running now: <span data-figure=\"running\">").append(running.size()).append("</span></h2>\n");
        if (running.isEmpty()) {
            return;
        }
        b.append("<table><tr><th>script</th><th>pid</th><th>running for</th></tr>\n");
        for (ScriptRunner.Running r : running) {
            b.append("<tr><td><code>").append(esc(r.script())).append("</code></td><td class=\"n\">").append(r.pid())
                    .append("</td><td class=\"n\">").append(r.elapsedMillis()).append(" ms</td></tr>\n");
        }
        b.append("</table>\n");
    }

    private static void interpreters(StringBuilder b, Kiln k) {
        b.append("<h2>Interpreters</h2>\n<table><tr><th>command</th><th>executable</th><th>version</th>")
                .append("<th>cache tag</th><th>cached</th></tr>\n");
        for (PythonInterpreter p : k.interpreters().known()) {
            b.append("<tr><td><code>").append(esc(p.command())).append("</code></td><td><code>")
                    .append(esc(p.executable().toString())).append("</code></td><td>").append(esc(p.version()))
                    .append("</td><td>").append(esc(p.cacheTag())).append("</td><td>").append(p.cacheable() ? "yes"
                            : "no: needs CPython 3.8+").append("</td></tr>\n");
        }
        b.append("</table>\n<h2>Fork-servers (run-mode ").append(esc(k.config().interpreters().runMode().word()))
                .append(")</h2>\n<table><tr><th>interpreter</th><th>pid</th><th>state</th><th>uptime s</th>")
                .append("<th>children served</th><th>restarts</th><th>last failure</th></tr>\n");
        for (ForkServers.Entry e : k.forkServers().status()) {
            boolean alive = e.server().map(ForkServerStatus::alive).orElse(false);
            b.append("<tr><td><code>").append(esc(e.interpreter())).append("</code></td><td class=\"n\">")
                    .append(e.server().map(s -> Long.toString(s.pid())).orElse("-")).append("</td><td class=\"")
                    .append(alive ? "ok\">alive" : "bad\">down").append(e.classicNow() ? ", running classic" : "")
                    .append("</td><td class=\"n\">").append(e.server().map(s -> Long.toString(s.uptime()
                            .toSeconds())).orElse("-")).append("</td><td class=\"n\">")
                    .append(e.server().map(s -> Long.toString(s.childrenServed())).orElse("-"))
                    .append("</td><td class=\"n\">").append(e.restarts()).append("</td><td>")
                    .append(e.lastFailure() == null ? "-" : esc(e.lastFailure())).append("</td></tr>\n");
        }
        b.append("</table>\n");
    }

    private static String esc(String s) {
        return ErrorPage.escape(s);
    }
}
