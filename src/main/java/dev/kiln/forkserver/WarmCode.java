package dev.kiln.forkserver;

/**
 * A pyc a fork-server's child read from Kiln's cache itself, for the fork-server to read once and hand its code to
 * the children after it ({@code kiln_warmcode.py}, which checks where it is and who owns it): the pyc's path and
 * its source's, each escaped as the loader's line has them.
 */
public record WarmCode(String pyc, String source) {
    public WarmCode {
        if (!word(pyc) || !word(source)) {
            throw new IllegalArgumentException("not one escaped word each: " + pyc + " " + source);
        }
    }

    /** Its line on CONTROL, without the newline. */
    String command() {
        return "warm " + pyc + " " + source;
    }

    private static boolean word(String value) {
        return !value.isEmpty() && value.chars().allMatch(c -> c > ' ' && c < 0x7f);
    }
}
