package dev.kiln.run;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The resource limits every script runs under (Apache's RLimitCPU, RLimitMEM, RLimitNPROC and more). Each is a
 * hard limit the script cannot raise; {@link #UNLIMITED} leaves Kiln's own. The process count is enforced by a
 * cgroup {@code pids} limit per request ({@link RequestCgroups}) where the system gives Kiln one: a per-user
 * {@code RLIMIT_NPROC} would count Kiln's own threads too.
 *
 * @param cpuSeconds CPU time; at the limit the script gets SIGXCPU, a second later SIGKILL
 * @param memory     bytes of data (heap and private mappings, RLIMIT_DATA): allocations past it fail
 * @param processes  processes and threads of one request, the script included
 * @param openFiles  open file descriptors per process
 * @param fileSize   largest file a script may write, in bytes (SIGXFSZ, or EFBIG where that is ignored)
 * @param coreSize   largest core dump; 0 (the default) writes none
 */
public record ScriptLimits(long cpuSeconds, long memory, long processes, long openFiles, long fileSize,
                           long coreSize) {
    public static final long UNLIMITED = -1;
    private static final int SIGNALLED = 128;
    private static final int SIGXCPU = 24;
    private static final int SIGXFSZ = 25;
    /** Kiln's environment variable that hands the rlimits to its Python side (removed before the script runs). */
    public static final String RLIMITS_VARIABLE = "KILN_RLIMITS";

    /** None at all: what a test that is not about limits may use. */
    public static final ScriptLimits NONE = new ScriptLimits(UNLIMITED, UNLIMITED, UNLIMITED, UNLIMITED, UNLIMITED,
            UNLIMITED);

    /**
     * The rlimits as {@code name=soft:hard} in prlimit(1)'s names (cpu, data, nofile, fsize, core), what both
     * the classic prefix and the fork-server child apply. Processes are left to the cgroup.
     */
    public List<String> rlimits() {
        List<String> out = new ArrayList<>();
        if (cpuSeconds != UNLIMITED) {
            out.add("cpu=" + cpuSeconds + ":" + (cpuSeconds + 1)); // SIGXCPU first, SIGKILL if it is ignored
        }
        add(out, "data", memory);
        add(out, "nofile", openFiles);
        add(out, "fsize", fileSize);
        add(out, "core", coreSize);
        return out;
    }

    /** The prlimit(1) options that set {@link #rlimits}. */
    List<String> prlimitOptions() {
        return rlimits().stream().map(r -> "--" + r).toList();
    }

    /** Which limit ended a script, from how it ended; empty when none did. */
    Optional<String> breach(int exitCode, long refusedForks) {
        if (exitCode == SIGNALLED + SIGXCPU) {
            return Optional.of("stopped at rlimit-cpu, " + cpuSeconds + " s of CPU time (SIGXCPU); fix: make it "
                    + "do less per request or raise rlimit-cpu");
        }
        if (exitCode == SIGNALLED + SIGXFSZ) {
            return Optional.of("stopped writing a file past rlimit-fsize, " + fileSize + " bytes (SIGXFSZ); fix: "
                    + "write less or raise rlimit-fsize");
        }
        if (refusedForks > 0) {
            return Optional.of("reached rlimit-nproc, " + processes + " processes: " + refusedForks + " forks "
                    + "refused; fix: start fewer processes or raise rlimit-nproc");
        }
        return Optional.empty();
    }

    private static void add(List<String> out, String name, long value) {
        if (value != UNLIMITED) {
            out.add(name + "=" + value + ":" + value);
        }
    }
}
