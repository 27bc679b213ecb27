package dev.kiln.testing;

import java.util.stream.Stream;

/**
 * How Kiln may run scripts (its option {@code run-mode}). Suites marked {@link EachRunMode} run once per mode
 * listed here: adding a mode to {@link #all()} is all it takes to run them in it too.
 */
public final class RunModes {
    /** A new process per request, exec'd from Kiln. */
    public static final String CLASSIC = "classic";
    /** Python scripts forked from a warm fork-server; other scripts still exec'd. */
    public static final String FORKSERVER = "forkserver";

    private RunModes() {
    }

    /** The modes to test. */
    public static Stream<String> all() {
        return Stream.of(CLASSIC, FORKSERVER);
    }
}
