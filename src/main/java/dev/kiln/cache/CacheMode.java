package dev.kiln.cache;

/** What the cache can do right now; passed to Kiln's Python loader as its first argument. */
public enum CacheMode {
    /** Readable and writable: bytecode is read from and written to the cache. */
    RW("rw"),
    /** Readable only (e.g. precompiled at image build, mounted read-only): read, never write. */
    RO("ro"),
    /** Unusable or unsafe: scripts run as plain Python without the prefix and without writing bytecode. */
    OFF("off");

    private final String word;

    CacheMode(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }
}
