package dev.kiln.metrics;

/** One script's requests so far, those answered with a 5xx, and the median and 95th percentile latency. */
public record ScriptRequests(long requests, long errors, double p50Seconds, double p95Seconds) {
}
