package dev.kiln.testing;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * Waits for something that happens asynchronously (a process exits, a log line arrives, a counter moves) instead
 * of sleeping a fixed time: {@code Poll.within(Duration.ofSeconds(3)).until("sleep gone", () -> ...)}.
 * A failure says what was awaited, for how long, and the last value seen.
 */
public record Poll(Duration timeout, Duration interval) {
    /** Something to read again on every round; it may throw (an HTTP request, a file read). */
    @FunctionalInterface
    public interface Check<T> {
        T get() throws Exception;
    }

    public static Poll within(Duration timeout) {
        return new Poll(timeout, Duration.ofMillis(25));
    }

    public static Poll withinMillis(long millis) {
        return within(Duration.ofMillis(millis));
    }

    /** The same deadline, read less often (each round sends a request, say). */
    public Poll every(Duration pause) {
        return new Poll(timeout, pause);
    }

    /** Returns once {@code condition} holds; fails when it still does not at the deadline. */
    public void until(String what, Check<Boolean> condition) throws Exception {
        until(what, condition, Boolean.TRUE::equals);
    }

    /** Returns the first value that satisfies {@code done}; fails with the last value seen otherwise. */
    public <T> T until(String what, Check<T> value, Predicate<? super T> done) throws Exception {
        T last = latest(value, done);
        if (!done.test(last)) {
            throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what + " (last seen: " + last + ")");
        }
        return last;
    }

    /**
     * The first value that satisfies {@code done}, or the last one read at the deadline: for callers that assert
     * on it themselves with a message of their own.
     */
    public <T> T latest(Check<T> value, Predicate<? super T> done) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        T last = value.get();
        while (!done.test(last) && System.nanoTime() < end) {
            Thread.sleep(interval.toMillis());
            last = value.get();
        }
        return last;
    }
}
