package dev.kiln.run;

/** Receives the lines Kiln's Python loader writes to stderr behind the {@code \x1ekiln:} marker. */
@FunctionalInterface
public interface StderrSink {
    /** @param line the marker line without the leading {@code \x1ekiln:} */
    void kilnLine(String line);

    StderrSink NONE = line -> { };
}
