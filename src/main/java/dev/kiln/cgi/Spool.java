package dev.kiln.cgi;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one place request bodies and response buffers spill to disk: the spool folder, the total bytes all spool
 * files may hold at once ({@code max-spool}) and how many chunked uploads may be spooling at once
 * ({@code max-uploads}), so neither stalled uploads nor slow readers can fill the disk or tie up every thread.
 */
public final class Spool {
    private final SpoolFolder folder;
    private final long budget;
    private final int maxUploads;
    private final AtomicLong used = new AtomicLong();
    private final Semaphore uploads;

    /** @param folder Kiln's private spool folder, where every file is made unlinked */
    public Spool(SpoolFolder folder, long budget, int maxUploads) {
        this.folder = folder;
        this.budget = budget;
        this.maxUploads = maxUploads;
        this.uploads = new Semaphore(maxUploads);
    }

    /** A new empty spool file, already unlinked: closing it frees it. */
    FileChannel newFile(String prefix) throws IOException {
        return folder.newFile(prefix);
    }

    /** Claims {@code bytes} of the budget; false when that would go over it. */
    boolean reserve(long bytes) {
        while (true) {
            long now = used.get();
            if (now + bytes > budget) {
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
    }

    /** Bytes in spool files now. */
    public long used() {
        return used.get();
    }

    public long budget() {
        return budget;
    }

    /** A place for one more chunked upload; false when {@code max-uploads} are spooling already. */
    boolean startUpload() {
        return uploads.tryAcquire();
    }

    void endUpload() {
        uploads.release();
    }

    /** Chunked uploads spooling now. */
    public int uploading() {
        return maxUploads - uploads.availablePermits();
    }

    public int maxUploads() {
        return maxUploads;
    }
}
