package dev.kiln.testing;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;

/** A running Kiln's /kiln/status, read: what an operator sees of the cache, the limits and each script. */
public interface KilnStatus {
    /** {@code GET path} on the running Kiln. */
    HttpResponse<String> get(String path) throws IOException, InterruptedException;

    default JsonNode status() throws IOException, InterruptedException {
        HttpResponse<String> r = get("/kiln/status");
        if (r.statusCode() != 200) {
            throw new AssertionError("/kiln/status answered " + r.statusCode() + ": " + r.body());
        }
        return Json.tree(r.body());
    }

    /** One script's counters (all zero before its first request is counted). */
    default ScriptCounters counters(String script) throws IOException, InterruptedException {
        return ScriptCounters.of(status().path("scriptsStats").path(script));
    }

    /** Waits until the script's counters satisfy {@code done}: they are counted after the response is sent. */
    default ScriptCounters awaitCounters(String script, Predicate<ScriptCounters> done) throws Exception {
        return Poll.withinMillis(5000).until("counters of " + script, () -> counters(script), done);
    }
}
