package dev.kiln.metrics;

/** One minute of the last hour ({@code epochMinute} says which): requests, 5xx answers, mean and worst latency. */
public record MinuteRequests(long epochMinute, long requests, long errors, double meanSeconds, double maxSeconds) {
}
