package dev.kiln.forkserver;

import java.time.Duration;

/** What the status shows about one fork-server. */
public record ForkServerStatus(long pid, String interpreter, Duration uptime, long childrenServed, int running,
                               boolean alive) {
}
