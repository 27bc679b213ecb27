package dev.kiln.juli;

import java.util.logging.Level;

/** SLF4J's levels as java.util.logging's (DEBUG is FINE, TRACE is FINEST), by SLF4J's level number. */
final class JulLevels {
    static final Level TRACE = Level.FINEST;
    static final Level DEBUG = Level.FINE;
    static final Level INFO = Level.INFO;
    static final Level WARN = Level.WARNING;
    static final Level ERROR = Level.SEVERE;

    private JulLevels() {
    }

    /** @param slf4j {@code org.slf4j.event.Level.toInt()}: 0 trace to 40 error */
    static Level of(int slf4j) {
        if (slf4j >= 40) {
            return ERROR;
        }
        if (slf4j >= 30) {
            return WARN;
        }
        if (slf4j >= 20) {
            return INFO;
        }
        return slf4j >= 10 ? DEBUG : TRACE;
    }
}
