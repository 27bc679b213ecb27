package dev.kiln.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A resident process that starts exec'd scripts as mod_cgid's daemon does: it forks, and the child makes itself a
 * session leader, joins the request's cgroup, becomes the script user, sets the limits, enters and checks the
 * working folder, then execs. Started from the JVM, each script instead pays an exec of {@code prlimit}, a shell,
 * {@code setpriv} and {@code setsid} in front of its own (about 0.85 ms of CPU each), since Java can do none of
 * these between fork and exec.
 */
public interface ExecServer {
    /** No exec server: every script starts from the JVM. */
    ExecServer NONE = (argv, env, workDir, user, logName) -> Optional.empty();

    /**
     * @param argv the command line, its first word an absolute path
     * @param env  the whole environment, with the confinement ({@link ScriptRunner#confinement}) the child applies
     * @return the started child, or empty when the exec server cannot start it now: Kiln starts it itself
     */
    Optional<ChildProcess> start(List<String> argv, Map<String, String> env, Path workDir, ScriptUser user,
                                 String logName);
}
