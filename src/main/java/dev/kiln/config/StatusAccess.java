package dev.kiln.config;

/** Who may read {@code /kiln/status}, which names folders and scripts (option {@code status}). */
public enum StatusAccess {
    /** Loopback clients only: the default. */
    LOCAL("local"),
    ALL("all"),
    /** Nobody: the page does not exist (404). */
    OFF("off");

    private final String word;

    StatusAccess(String word) {
        this.word = word;
    }

    /** The word used in options. */
    public String word() {
        return word;
    }
}
