package dev.kiln.config;

/** Which symlinks in the scripts folder are followed (option symlinks). */
public enum Symlinks {
    /** Only those whose target stays inside the scripts folder. */
    INSIDE("inside"),
    /** Also those leaving it when the link and its target have the same owner (Apache's SymLinksIfOwnerMatch). */
    OWNER_MATCH("owner-match"),
    /** Every symlink (Apache's FollowSymLinks). */
    FOLLOW("follow");

    private final String word;

    Symlinks(String word) {
        this.word = word;
    }

    /** The word used in options. */
    public String word() {
        return word;
    }
}
