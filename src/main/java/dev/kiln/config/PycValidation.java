package dev.kiln.config;

/** How cached bytecode is checked against its source (CPython's two schemes). */
public enum PycValidation {
    /** Source mtime and size recorded in the pyc header: CPython's default. */
    TIMESTAMP("timestamp"),
    /** PEP 552 checked hash-based pycs: for filesystems with coarse or unreliable mtimes. */
    CHECKED_HASH("checked-hash");

    private final String word;

    PycValidation(String word) {
        this.word = word;
    }

    /** The word used in options and passed to Kiln's Python loader. */
    public String word() {
        return word;
    }
}
