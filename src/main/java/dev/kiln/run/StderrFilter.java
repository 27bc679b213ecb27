package dev.kiln.run;

/**
 * Sees a script's stderr line by line before it is logged. A launcher whose helper shares the script's stderr
 * (Kiln's Python loader reports its counters there) takes its own lines out; everything else is the script's.
 */
public interface StderrFilter {
    /** Passes every line through. */
    StderrFilter NONE = line -> line;

    /**
     * @param line one line, without its line end
     * @return what of it to log as the script's, or null when the whole line was the launcher's
     */
    String line(String line);

    /** Stderr has closed: nothing more comes. Called once, before the script's run is reported finished. */
    default void closed() {
    }
}
