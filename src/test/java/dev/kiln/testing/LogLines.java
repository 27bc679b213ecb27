package dev.kiln.testing;

import java.time.Duration;
import java.util.List;

/** Log lines that keep arriving while a test runs (Kiln logs stderr asynchronously): search them, wait for one. */
public interface LogLines {
    /** What has been logged so far, oldest first. */
    List<String> lines();

    /** Lines containing every one of the fragments. */
    default List<String> matching(String... fragments) {
        return lines().stream().filter(l -> {
            for (String f : fragments) {
                if (!l.contains(f)) {
                    return false;
                }
            }
            return true;
        }).toList();
    }

    /**
     * Waits up to {@code millis} for a line containing every fragment; returns the matching lines, empty when
     * none came, for the caller to assert on with the whole log in its message.
     */
    default List<String> await(long millis, String... fragments) throws Exception {
        return Poll.within(Duration.ofMillis(millis)).latest(() -> matching(fragments), m -> !m.isEmpty());
    }
}
