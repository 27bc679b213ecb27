package dev.kiln.run;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cgroup per request under a folder of this Kiln's own, in the {@code pids} hierarchy (cgroup v2 where it has
 * the controller, else v1): its {@code pids.max} bounds a fork bomb, and its member list finds every process a
 * script left, even one that double-forked into a session of its own. A small {@code /bin/sh} guard, started
 * once, reads a pipe from Kiln; when Kiln dies, even by SIGKILL, the pipe closes and the guard kills whatever is
 * still in Kiln's cgroups.
 */
public final class RequestCgroups implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.run");
    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    // $0 is Kiln's folder. Waits for end of input, then kills every member until none is left (bounded).
    private static final String GUARD = "read -r _; i=0; while [ $i -lt 200 ]; do "
            + "p=$(cat \"$0\"/*/cgroup.procs 2>/dev/null); [ -z \"$p\" ] && break; kill -9 $p 2>/dev/null; "
            + "i=$((i+1)); done; rmdir \"$0\"/*/ \"$0\" 2>/dev/null";

    private final Path base;
    private final Process guard;
    private final OutputStream guardInput;
    private final AtomicLong requests = new AtomicLong();

    private RequestCgroups(Path base, Process guard) {
        this.base = base;
        this.guard = guard;
        this.guardInput = guard.getOutputStream();
    }

    /** Kiln's own folder of request cgroups, or empty (logged) where the system delegates none to it. */
    public static Optional<RequestCgroups> open() {
        try {
            Optional<Path> parent = pidsParent();
            if (parent.isEmpty()) {
                LOG.warn("no cgroup pids controller is delegated to Kiln: rlimit-nproc is not enforced and, in "
                        + "classic mode, a script that leaves its session is not found at request end (fork-server "
                        + "mode finds it as subreaper); fix: run Kiln as root or in a delegated cgroup (systemd "
                        + "Delegate=yes)");
                return Optional.empty();
            }
            removeStale(parent.get());
            Path base = createOwnFolder(parent.get());
            if (Files.exists(base.resolve("cgroup.subtree_control"))) {
                Files.writeString(base.resolve("cgroup.subtree_control"), "+pids");
            }
            ProcessBuilder pb = new ProcessBuilder("/usr/bin/setsid", "/bin/sh", "-c", GUARD, base.toString());
            pb.environment().clear();
            pb.environment().put("PATH", "/usr/bin:/bin");
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
            return Optional.of(new RequestCgroups(base, pb.start()));
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot make cgroups for scripts ({}): rlimit-nproc is not enforced; fix: run Kiln as root or in "
                    + "a delegated cgroup (systemd Delegate=yes)", e.toString());
            return Optional.empty();
        }
    }

    /**
     * A new folder named for this process and a random number: several Kilns in one JVM (a container's
     * redeploys, tests) each get their own, and the pid tells later ones whether its owner is gone.
     */
    private static Path createOwnFolder(Path parent) throws IOException {
        long number = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        return Files.createDirectory(parent.resolve("kiln-" + ProcessHandle.current().pid() + "-" + number));
    }

    /**
     * Kills what is left in the cgroups of Kilns that are gone and removes them: one killed before its guard could
     * clean up (both killed at once, as a container's stop does) would leave them behind for good.
     */
    private static void removeStale(Path parent) throws IOException {
        List<Path> stale;
        try (var dirs = Files.list(parent)) {
            stale = dirs.filter(d -> d.getFileName().toString().matches("kiln-[0-9]+-[0-9]+") && Files.isDirectory(d)
                    && ProcessHandle.of(Long.parseLong(d.getFileName().toString().split("-")[1])).isEmpty()).toList();
        }
        for (Path dir : stale) {
            try (var requests = Files.list(dir)) {
                requests.filter(Files::isDirectory).map(Cage::new).forEach(Cage::close);
            }
            Files.deleteIfExists(dir);
            LOG.info("removed {}: the script cgroups of a Kiln that is gone", dir);
        }
    }

    /**
     * Where Kiln may make cgroups with a pids limit: its own cgroup in v2 when that hierarchy has the pids
     * controller and lets it be enabled below, else its own cgroup in the v1 pids hierarchy.
     */
    private static Optional<Path> pidsParent() throws IOException {
        List<String> own = Files.readAllLines(Path.of("/proc/self/cgroup"));
        for (String line : own) {
            if (line.startsWith("0::")) {
                Path v2 = ROOT.resolve(line.substring(4));
                Path controllers = v2.resolve("cgroup.controllers");
                if (Files.isReadable(controllers) && List.of(Files.readString(controllers).trim().split(" "))
                        .contains("pids")) {
                    try {
                        Files.writeString(v2.resolve("cgroup.subtree_control"), "+pids");
                        return Optional.of(v2);
                    } catch (IOException e) {
                        break; // a cgroup with processes of its own cannot have controllers below: try v1
                    }
                }
            }
        }
        for (String line : own) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && List.of(f[1].split(",")).contains("pids")) {
                Path v1 = ROOT.resolve("pids").resolve(f[2].substring(1));
                return Files.isWritable(v1) ? Optional.of(v1) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** A new, empty cgroup for one request, limited to {@code processes} members (or none). */
    public Cage create(long processes) throws IOException {
        Path dir = Files.createDirectory(base.resolve("r" + requests.incrementAndGet()));
        if (processes != ScriptLimits.UNLIMITED) {
            try {
                Files.writeString(dir.resolve("pids.max"), Long.toString(processes));
            } catch (IOException e) {
                Files.deleteIfExists(dir);
                throw e;
            }
        }
        return new Cage(dir);
    }

    /** Kills what is left in every request cgroup and removes them, then lets the guard go. */
    @Override
    public void close() {
        try (var dirs = Files.list(base)) {
            dirs.filter(Files::isDirectory).map(Cage::new).forEach(Cage::close);
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}", base, e.toString());
        }
        try {
            guardInput.write("stop\n".getBytes(StandardCharsets.US_ASCII));
            guardInput.close();
            if (!guard.waitFor(2, TimeUnit.SECONDS)) {
                guard.destroyForcibly();
            }
        } catch (IOException e) {
            guard.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
