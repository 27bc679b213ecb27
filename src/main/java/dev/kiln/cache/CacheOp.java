package dev.kiln.cache;

/** What was being done under the cache when it failed; the word is how logs, status and the loader name it. */
public enum CacheOp {
    MKDIR("mkdir"),
    READ("read"),
    WRITE("write"),
    LOCK("lock"),
    /** Kiln's own check that the cache folder can be written. */
    PROBE("probe"),
    /** A word this version of Kiln does not know, from a newer loader: still reported, under this name. */
    OTHER("other");

    private final String word;

    CacheOp(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }

    /** The op a loader named; {@link #OTHER} for a word Kiln does not know. */
    public static CacheOp of(String word) {
        for (CacheOp op : values()) {
            if (op.word.equals(word)) {
                return op;
            }
        }
        return OTHER;
    }
}
