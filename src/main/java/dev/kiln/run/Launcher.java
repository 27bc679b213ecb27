package dev.kiln.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Starts scripts one way: exec of the interpreter, Kiln's Python bootstrap, a warm fork-server. Every request
 * goes through exactly one launcher, chosen by the planner; the request path is the same for all of them.
 */
public interface Launcher {
    /**
     * Fixes how {@code command} starts for this request (the cache mode in force now, for example) without
     * starting anything and without side effects.
     */
    Launch prepare(Command command);

    /** One script about to start. */
    interface Launch {
        /** Variables the launcher adds to the CGI environment; a null value removes the variable. */
        Map<String, String> environment();

        /**
         * Starts the script.
         *
         * @param env     its complete environment (nothing else is inherited)
         * @param workDir its working folder (the script's folder, as Apache uses)
         * @param logName the logger its stderr goes to, e.g. {@code kiln.script.sub/app.py}
         * @throws IOException when it cannot be started (the caller answers 500)
         */
        ScriptProcess start(Map<String, String> env, Path workDir, String logName) throws IOException;
    }
}
