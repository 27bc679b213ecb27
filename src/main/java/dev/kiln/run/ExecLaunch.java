package dev.kiln.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A script started by exec with {@link ProcessBuilder}.
 *
 * @param runner      owns the threads and signals every run shares
 * @param argv        the full command line, interpreter first
 * @param environment what the launcher adds to the CGI environment
 * @param ownSession  the command calls setsid() itself first thing (Kiln's Python bootstrap does), so no
 *                    {@code setsid} exec is needed
 * @param stderr      takes the launcher's own lines out of the script's stderr
 */
public record ExecLaunch(ScriptRunner runner, List<String> argv, Map<String, String> environment,
                         boolean ownSession, StderrFilter stderr) implements Launcher.Launch {
    @Override
    public ScriptProcess start(Map<String, String> env, Path workDir, String logName) throws IOException {
        return runner.exec(this, env, workDir, logName);
    }
}
