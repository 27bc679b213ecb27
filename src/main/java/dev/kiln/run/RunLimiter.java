package dev.kiln.run;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * At most {@code maxRunning} scripts at once; up to {@code maxQueued} more wait, each for at most
 * {@code queueTimeout}. Anything beyond is refused at once, so an overload cannot pile up threads. A slot is
 * for a running script only: clients that send or read slowly do not hold one.
 */
public final class RunLimiter {
    private final Semaphore slots;
    private final int maxRunning;
    private final int maxQueued;
    private final Duration queueTimeout;
    private final AtomicInteger waiting = new AtomicInteger();

    public RunLimiter(int maxRunning, int maxQueued, Duration queueTimeout) {
        this.slots = new Semaphore(maxRunning, true);
        this.maxRunning = maxRunning;
        this.maxQueued = maxQueued;
        this.queueTimeout = queueTimeout;
    }

    /**
     * Takes a slot, waiting if allowed; null means refuse the request (503). The slot is given back when it is
     * closed, once however often: as soon as the script is done, whatever its client still has to send or read.
     */
    public Slot acquire() throws InterruptedException {
        if (slots.tryAcquire()) {
            return new Slot();
        }
        if (waiting.incrementAndGet() > maxQueued) {
            waiting.decrementAndGet();
            return null;
        }
        try {
            return slots.tryAcquire(queueTimeout.toNanos(), TimeUnit.NANOSECONDS) ? new Slot() : null;
        } finally {
            waiting.decrementAndGet();
        }
    }

    /** One script's claim on a slot. */
    public final class Slot implements AutoCloseable {
        private final AtomicBoolean held = new AtomicBoolean(true);

        private Slot() {
        }

        @Override
        public void close() {
            if (held.compareAndSet(true, false)) {
                slots.release();
            }
        }
    }

    public int running() {
        return maxRunning - slots.availablePermits();
    }

    public int waiting() {
        return waiting.get();
    }

    public int maxRunning() {
        return maxRunning;
    }

    /** Seconds a refused client should wait before trying again. */
    public long retryAfterSeconds() {
        return Math.max(1, queueTimeout.toSeconds());
    }
}
