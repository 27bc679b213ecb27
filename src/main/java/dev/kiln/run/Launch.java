package dev.kiln.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to start one script.
 *
 * @param argv    the command, interpreter first
 * @param env     the complete environment (nothing else is inherited)
 * @param workDir the script's folder, as Apache uses
 * @param logName the logger stderr lines go to, e.g. {@code kiln.script.sub/app.py}
 * @param ownSession the command calls setsid() itself first thing, so no {@code setsid} exec is needed
 */
public record Launch(List<String> argv, Map<String, String> env, Path workDir, String logName, boolean ownSession) {
}
