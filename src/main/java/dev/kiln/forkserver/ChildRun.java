package dev.kiln.forkserver;

/** What a forked child does once it is the request (the frame's word for it, see kiln_forkserver.py). */
public enum ChildRun {
    /** Runs the Python script through Kiln's loader and ends as the interpreter would. */
    SCRIPT(""),
    /**
     * Runs the Python script and ends as kiln_forkexit.py does: what a script sees of its exit is the same, without
     * the interpreter's own teardown of the inherited heap (most of a child's CPU); objects only reachable from
     * preloaded modules are not finalized.
     */
    SCRIPT_QUICK_EXIT("quick"),
    /** Execs the command line: a script that is not Python, started as mod_cgid's daemon starts one. */
    EXEC("exec");

    private final String word;

    ChildRun(String word) {
        this.word = word;
    }

    String word() {
        return word;
    }
}
