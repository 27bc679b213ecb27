package dev.kiln.config;

/** How Python scripts start; every other script always starts by exec. */
public enum RunMode {
    /** A fresh interpreter per request, on Kiln's bootstrap (bytecode from the shared cache). */
    CLASSIC("classic"),
    /** A fresh process per request, forked from a warm interpreter that has already started and preloaded. */
    FORKSERVER("forkserver");

    private final String word;

    RunMode(String word) {
        this.word = word;
    }

    /** The word used in options. */
    public String word() {
        return word;
    }
}
