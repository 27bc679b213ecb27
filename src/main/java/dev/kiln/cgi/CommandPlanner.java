package dev.kiln.cgi;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.kiln.run.StderrSink;

/** Decides how a script runs: which interpreter, which arguments, what extra environment. */
@FunctionalInterface
public interface CommandPlanner {
    /** Marks a refusal that is the server's fault, not the script's: it answers 500. */
    String CANNOT_START = "cannot start: ";

    /**
     * How to run one script, or why it may not run.
     *
     * @param argv    the full command (interpreter first), or null when refused
     * @param env     variables added to (or, with a null value, removed from) the CGI environment
     * @param sink    receives Kiln's own marker lines from the script's stderr
     * @param refusal why the script may not run (the caller answers 403), or null
     * @param ownSession whether the command makes itself a session leader (Kiln's Python bootstrap does, which
     *                   saves the {@code setsid} exec); otherwise Kiln starts it under {@code setsid}
     */
    record Plan(List<String> argv, Map<String, String> env, StderrSink sink, String refusal, boolean ownSession) {
        /** The script may not run (403): it is not a script Kiln runs. */
        public static Plan refuse(String why) {
            return new Plan(null, Map.of(), StderrSink.NONE, why, false);
        }

        /** The script cannot run (500): its interpreter is missing or broken. */
        public static Plan cannotStart(String why) {
            return new Plan(null, Map.of(), StderrSink.NONE, CANNOT_START + why, false);
        }

        /** 403 for a refusal, 500 when the script cannot start. */
        public int status() {
            return refusal != null && refusal.startsWith(CANNOT_START) ? 500 : 403;
        }

        public boolean refused() {
            return refusal != null;
        }
    }

    /**
     * @param script the script file (inside the scripts folder)
     * @param args   command-line words for the script (RFC 3875 4.4), usually none
     */
    Plan plan(Path script, List<String> args);
}
