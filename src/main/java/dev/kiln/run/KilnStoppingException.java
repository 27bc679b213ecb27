package dev.kiln.run;

import java.io.IOException;

/**
 * Kiln is stopping: a script that got its slot now is not started (its cgroup and fork-servers are going away),
 * and the client is told to come back (503 with Retry-After) instead of that its script cannot start.
 */
public final class KilnStoppingException extends IOException {
    private static final long serialVersionUID = 1L;

    KilnStoppingException() {
        super("Kiln is stopping: script not started; the client may retry after Retry-After");
    }
}
