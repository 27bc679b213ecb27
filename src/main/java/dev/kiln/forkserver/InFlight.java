package dev.kiln.forkserver;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/** One fork-server's scripts from the fork request until their exit, by request id. */
final class InFlight {
    private final Map<Long, ForkedChild> children = new ConcurrentHashMap<>();

    void add(long id, ForkedChild child) {
        children.put(id, child);
    }

    boolean remove(long id) {
        return children.remove(id) != null;
    }

    int size() {
        return children.size();
    }

    boolean isEmpty() {
        return children.isEmpty();
    }

    void exited(long id, int status) {
        ForkedChild child = children.remove(id);
        if (child != null) {
            child.exited(status);
        }
    }

    /** A spawned script runs; false when its fork() no longer waits for it. */
    boolean spawned(long id, long pid) {
        ForkedChild child = children.get(id);
        return child != null && child.begin(pid);
    }

    void refused(long id, IOException why) {
        ForkedChild child = children.get(id);
        if (child != null) {
            child.failed(why);
        }
    }

    /** Fails forks not answered within {@code timeout}: the fork-server is alive but stuck. */
    void expire(Duration timeout, Supplier<IOException> why) {
        for (ForkedChild child : children.values()) {
            if (child.starting() && child.ageNanos() > timeout.toNanos()) {
                child.failed(why.get());
            }
        }
    }

    /**
     * The fork-server is gone: pending forks fail with {@code why}, running scripts complete as killed, each
     * after {@code orphan} got its pid. Returns how many were running.
     */
    int lose(IOException why, LongConsumer orphan) {
        int lost = 0;
        for (Long id : List.copyOf(children.keySet())) {
            ForkedChild child = children.remove(id);
            if (child != null && !child.failed(why)) {
                orphan.accept(child.pid());
                child.lost();
                lost++;
            }
        }
        return lost;
    }
}
