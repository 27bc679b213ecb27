package dev.kiln.cgi;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A script's output on its way to the client, as nginx buffers an upstream's: up to {@code memoryLimit} bytes in
 * memory, then in a spool file while the {@link Spool}'s budget allows, and only then does the script wait for
 * the client. So a script that has finished gives back its slot however slowly its client reads. One thread
 * writes (the script's stdout pump), one reads (the request's thread).
 */
final class OutputBuffer extends OutputStream {
    private final Spool spool;
    private final int memoryLimit;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<byte[]> memory = new ArrayDeque<>();
    private int memoryBytes;
    private int headOffset;
    private FileChannel file;
    private long fileWrite;
    private long fileRead;
    private boolean finished;
    private boolean abandoned;

    OutputBuffer(Spool spool, int memoryLimit) {
        this.spool = spool;
        this.memoryLimit = memoryLimit;
    }

    /** Adds bytes in order; waits only when memory and the spool budget are both full. */
    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return;
        }
        lock.lock();
        try {
            while (!abandoned) {
                boolean fileInUse = fileWrite > fileRead;
                // an empty buffer always takes a write, so a full spool can make a script wait, never stall
                if (!fileInUse && (memoryBytes == 0 || memoryBytes + len <= memoryLimit)) {
                    memory.add(Arrays.copyOfRange(b, off, off + len));
                    memoryBytes += len;
                    changed.signalAll();
                    return;
                }
                if (spool.reserve(len)) {
                    appendToFile(ByteBuffer.wrap(b, off, len));
                    changed.signalAll();
                    return;
                }
                changed.await(); // the client reads on, or is gone
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while buffering script output", e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    private void appendToFile(ByteBuffer data) throws IOException {
        if (file == null) {
            file = spool.newFile("response-");
        }
        while (data.hasRemaining()) {
            fileWrite += file.write(data, fileWrite);
        }
    }

    /** Bytes a write takes now without waiting for the reader (and without a spool file). */
    int room() {
        lock.lock();
        try {
            return fileWrite > fileRead || abandoned ? 0 : memoryLimit - memoryBytes;
        } finally {
            lock.unlock();
        }
    }

    /** The script's output has ended: readers get -1 once they have everything. */
    @Override
    public void close() {
        lock.lock();
        try {
            finished = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Next bytes for the client, waiting for the script if none are ready; -1 at the end of its output. */
    int read(byte[] b) throws IOException, InterruptedException {
        lock.lock();
        try {
            while (memory.isEmpty() && fileWrite == fileRead && !finished && !abandoned) {
                changed.await();
            }
            if (!memory.isEmpty()) {
                byte[] head = memory.peek();
                int n = Math.min(b.length, head.length - headOffset);
                System.arraycopy(head, headOffset, b, 0, n);
                headOffset += n;
                if (headOffset == head.length) {
                    memory.remove();
                    headOffset = 0;
                }
                memoryBytes -= n;
                changed.signalAll();
                return n;
            }
            if (fileWrite > fileRead) {
                int n = file.read(ByteBuffer.wrap(b, 0, (int) Math.min(b.length, fileWrite - fileRead)), fileRead);
                fileRead += n;
                if (fileRead == fileWrite) {
                    rewind(); // caught up: later output goes to memory again
                }
                changed.signalAll();
                return n;
            }
            return -1;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until more than {@code n} bytes are buffered or the output has ended, and returns the bytes buffered
     * then; -1 at once when {@code n} is more than memory holds (such a body is checked as it is sent).
     */
    long awaitMoreThan(long n) throws InterruptedException {
        if (n > memoryLimit) {
            return -1;
        }
        lock.lock();
        try {
            while (memoryBytes + fileWrite - fileRead <= n && !finished && !abandoned) {
                changed.await();
            }
            return memoryBytes + fileWrite - fileRead;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether the reader has everything buffered and the script's output goes on {@code nanos} later: what the
     * client has been given is then worth a flush. The wait is for a script that writes its output in one piece
     * at exit (Python's buffered stdout) and closes it a few ms later, once the interpreter has torn down: its
     * output ends, and the container sends it in one write with its length.
     */
    boolean pausedFor(long nanos) throws InterruptedException {
        lock.lock();
        try {
            long left = nanos;
            while (left > 0 && drainedWhileRunning()) {
                left = changed.awaitNanos(left);
            }
            return drainedWhileRunning();
        } finally {
            lock.unlock();
        }
    }

    private boolean drainedWhileRunning() {
        return memoryBytes + fileWrite - fileRead == 0 && !finished && !abandoned;
    }

    /** The client is gone or the request over: what is buffered is dropped, later output discarded. */
    void abandon() {
        lock.lock();
        try {
            abandoned = true;
            memory.clear();
            memoryBytes = 0;
            if (file != null) {
                spool.release(fileWrite);
                fileWrite = 0;
                fileRead = 0;
                file.close(); // unlinked when it was made: closing frees it
                file = null;
            }
            changed.signalAll();
        } catch (IOException e) {
            // the file is gone with the request either way
        } finally {
            lock.unlock();
        }
    }

    private void rewind() throws IOException {
        spool.release(fileWrite);
        if (file != null && fileWrite > 0) {
            file.truncate(0);
        }
        fileWrite = 0;
        fileRead = 0;
    }
}
