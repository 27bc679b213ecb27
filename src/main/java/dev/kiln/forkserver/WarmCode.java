package dev.kiln.forkserver;

import java.util.Optional;

/**
 * A pyc a fork-server's child read from Kiln's cache itself, for the fork-server to read once and hand its code to
 * the children after it ({@code kiln_warmcode.py}, which checks where it is and who owns it): the pyc's path and
 * its source's, each escaped as the loader's line has them: printable ASCII without spaces, so that nothing else
 * can ride along on CONTROL.
 */
public record WarmCode(String pyc, String source) {
    private static final int MAX_WORD = 4096;

    public WarmCode {
        if (!word(pyc) || !word(source)) {
            throw new IllegalArgumentException("not one escaped word each: " + pyc + " " + source);
        }
    }

    /** The pair as a loader's line gave it, or empty when either is not one escaped word (a script forged it). */
    public static Optional<WarmCode> of(String pyc, String source) {
        return word(pyc) && word(source) ? Optional.of(new WarmCode(pyc, source)) : Optional.empty();
    }

    /** Its line on CONTROL, without the newline. */
    String command() {
        return "warm " + pyc + " " + source;
    }

    private static boolean word(String value) {
        return value != null && !value.isEmpty() && value.length() <= MAX_WORD
                && value.chars().allMatch(c -> c > ' ' && c < 0x7f);
    }
}
