package dev.kiln.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cgroup of one request ({@link RequestCgroups}): the script joins it before any of its code runs, and
 * everything it starts stays in it, whatever session or process group it moves to.
 */
public final class Cage implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.run");
    /** A request without a cgroup: nothing to join, kill or count. */
    public static final Cage NONE = new Cage(null);
    /** Kiln's environment variable naming the file a Python child writes its pid to (removed before the script). */
    public static final String VARIABLE = "KILN_CGROUP";
    private static final long KILL_MILLIS = 2000;
    private static final int REMOVE_ATTEMPTS = 20;     // 1 + 2 + ... + 19 ms of pauses at most

    private final Path dir;
    /** Forks refused, counted just before the cgroup was removed; -1 until then. */
    private long refusedAtClose = -1;

    Cage(Path dir) {
        this.dir = dir;
    }

    /** The file a process writes its pid to, to join; null for {@link #NONE}. */
    public Path procs() {
        return dir == null ? null : dir.resolve("cgroup.procs");
    }

    /**
     * Forks the pids limit refused so far; after {@link #close}, those refused until then (the request's thread
     * may remove the cgroup before the exit is reported).
     */
    public synchronized long refusedForks() {
        if (dir == null) {
            return 0;
        }
        return refusedAtClose >= 0 ? refusedAtClose : countRefused();
    }

    /** The pids.events count; 0 when the cgroup is gone or the kernel has no pids.events. */
    private long countRefused() {
        try {
            for (String line : Files.readAllLines(dir.resolve("pids.events"))) {
                if (line.startsWith("max ")) {
                    return Long.parseLong(line.substring(4).trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone already, or a kernel without pids.events: nothing refused that we can tell
        }
        return 0;
    }

    /** SIGKILL to every member, until none is left (a fork bomb's new members too). */
    public void kill() {
        if (dir == null) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KILL_MILLIS);
        while (System.nanoTime() < deadline) {
            List<String> pids;
            try {
                pids = Files.readAllLines(procs());
            } catch (IOException e) {
                return; // removed: nothing left
            }
            if (pids.isEmpty()) {
                return;
            }
            for (String pid : pids) {
                ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
            }
            if (!pause(1)) {    // killed members leave the list once they have exited
                return;
            }
        }
        LOG.warn("{}: processes still there {} ms after SIGKILL", dir, KILL_MILLIS);
    }

    /** Kills every member and removes the cgroup. Idempotent. */
    @Override
    public synchronized void close() {
        if (dir == null || refusedAtClose >= 0) {
            return;
        }
        kill();
        refusedAtClose = countRefused();
        for (int attempt = 1; ; attempt++) {
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (IOException e) {
                // EBUSY for a moment after the last member exited, until the kernel lets go of it
                if (attempt == REMOVE_ATTEMPTS || !pause(attempt)) {
                    LOG.warn("cannot remove cgroup {}: {}; fix: remove it once its processes are gone (Kiln "
                            + "removes what a Kiln that is gone left behind at start)", dir, e.toString());
                    return;
                }
            }
        }
    }

    private static boolean pause(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
