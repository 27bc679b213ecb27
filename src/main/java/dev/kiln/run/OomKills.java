package dev.kiln.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The kernel's OOM kills so far, counted where a script's SIGKILL (exit 137) can be told apart: in the memory
 * cgroup Kiln and its scripts are in ({@code memory.events} in v2, which counts the request cgroups below too;
 * {@code memory.oom_control} in v1), and on the whole machine ({@code /proc/vmstat}).
 */
final class OomKills {
    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    private static final Path VMSTAT = Path.of("/proc/vmstat");

    /** The counts at one moment; -1 where the system does not say. */
    record Count(long cgroup, long machine) {
    }

    /** How old the count a script starts with may be: reading both files per request cost more than the script. */
    private static final long RECENT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Path cgroupFile;
    private final AtomicReference<Stamped> recent = new AtomicReference<>();

    private record Stamped(Count count, long nanos) {
    }

    private OomKills(Path cgroupFile) {
        this.cgroupFile = cgroupFile;
    }

    /** The counters of this process's memory cgroup (none found: the machine's only). */
    static OomKills ofThisProcess() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                String[] f = line.split(":", 3);
                Path file = null;
                if (f.length == 3 && f[0].equals("0") && f[1].isEmpty()) {
                    file = ROOT.resolve(f[2].substring(1)).resolve("memory.events");
                } else if (f.length == 3 && List.of(f[1].split(",")).contains("memory")) {
                    file = ROOT.resolve("memory").resolve(f[2].substring(1)).resolve("memory.oom_control");
                }
                if (file != null && Files.isReadable(file)) {
                    return new OomKills(file);
                }
            }
        } catch (IOException | RuntimeException e) {
            // no cgroups to read: the machine's count still tells
        }
        return new OomKills(null);
    }

    Count now() {
        return new Count(cgroupFile == null ? -1 : oomKills(cgroupFile), oomKills(VMSTAT));
    }

    /**
     * The count at most a second old, for a script's start. An OOM kill of that second before it started is
     * then counted in its run: only a script that also got a SIGKILL hears "probably by the OOM killer".
     */
    Count recent() {
        long t = System.nanoTime();
        Stamped last = recent.get();
        if (last == null || t - last.nanos() > RECENT_NANOS) {
            last = new Stamped(now(), t);
            recent.set(last);
        }
        return last.count();
    }

    /** Who sent a script the SIGKILL that ended it, when Kiln did not, with the fix; {@code since} at its start. */
    String cause(Count since, long elapsedMillis, ScriptLimits limits) {
        Count now = now();
        String memory = "fix: lower rlimit-mem (now " + (limits.memory() == ScriptLimits.UNLIMITED ? "unlimited"
                : (limits.memory() >> 20) + "m") + ") so that its allocations fail in the script instead, or make "
                + "it use less memory, or give ";
        if (now.cgroup() > since.cgroup() && since.cgroup() >= 0) {
            return "by the kernel's OOM killer: memory cgroup " + cgroupFile.getParent() + " ran out (oom_kill "
                    + since.cgroup() + " -> " + now.cgroup() + "); " + memory + "that cgroup more memory";
        }
        if (now.machine() > since.machine() && since.machine() >= 0) {
            return "probably by the kernel's OOM killer (an OOM kill on this machine while it ran, see dmesg); "
                    + memory + "the machine more memory";
        }
        if (limits.cpuSeconds() != ScriptLimits.UNLIMITED && elapsedMillis >= limits.cpuSeconds() * 1000) {
            return "probably at rlimit-cpu's hard limit, " + (limits.cpuSeconds() + 1) + " s of CPU time (it "
                    + "ignored SIGXCPU); fix: make it do less per request or raise rlimit-cpu";
        }
        return "not by Kiln (none of its timeouts ran out) and no OOM kill was recorded: by the script itself or "
                + "another process; fix: look for a kill -9 in the script or from a process outside Kiln";
    }

    private static long oomKills(Path file) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith("oom_kill ")) {
                    return Long.parseLong(line.substring(9).trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            // unreadable now: unknown
        }
        return -1;
    }
}
