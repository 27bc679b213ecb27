package dev.kiln.forkserver;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * Children left behind by a fork-server that died: no longer anyone's to wait for, so Kiln kills them itself.
 * Their pid may have been reused meanwhile, so only a process of the same interpreter started after the
 * fork-server is killed, with its descendants.
 */
final class Orphans {
    private Orphans() {
    }

    /** Kills {@code pid} and its descendants if it still is what the fork-server started. */
    static void kill(long pid, Path interpreter, Instant after) {
        ProcessHandle.of(pid).filter(h -> ours(h, interpreter, after)).ifPresent(h -> {
            h.descendants().forEach(ProcessHandle::destroyForcibly);
            h.destroyForcibly();
        });
    }

    private static boolean ours(ProcessHandle h, Path interpreter, Instant after) {
        ProcessHandle.Info info = h.info();
        Optional<Instant> start = info.startInstant();
        return info.command().map(c -> c.equals(interpreter.toString())).orElse(false)
                && start.map(s -> !s.isBefore(after.minusSeconds(1))).orElse(false);
    }
}
