package dev.kiln.testing;

import com.fasterxml.jackson.databind.JsonNode;

/** One script's counters as /kiln/status reports them ({@code scriptsStats}): what the cache did for it. */
public record ScriptCounters(long requests, long compiled, long cached, long shipped, long lastRequestCompiled) {
    static ScriptCounters of(JsonNode stats) {
        return new ScriptCounters(stats.path("requests").asLong(), stats.path("modulesCompiled").asLong(),
                stats.path("cacheHits").asLong(), stats.path("shippedHits").asLong(),
                stats.path("lastRequestCompiled").asLong());
    }
}
