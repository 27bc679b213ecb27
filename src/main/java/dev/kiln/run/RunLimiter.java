package dev.kiln.run;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * At most {@code maxRunning} scripts at once; up to {@code maxQueued} more wait, each for at most
 * {@code queueTimeout}. Anything beyond is refused at once, so an overload cannot pile up threads. A slot is
 * for a running script only: clients that send or read slowly do not hold one.
 */
public final class RunLimiter {
    private final Slots slots;
    private volatile int maxRunning;
    private volatile int maxQueued;
    private volatile Duration queueTimeout;
    private final AtomicInteger waiting = new AtomicInteger();
    private final LongAdder rejected = new LongAdder();

    public RunLimiter(int maxRunning, int maxQueued, Duration queueTimeout) {
        this.slots = new Slots(maxRunning);
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
            rejected.increment();
            return null;
        }
        try {
            if (slots.tryAcquire(queueTimeout.toNanos(), TimeUnit.NANOSECONDS)) {
                return new Slot();
            }
            rejected.increment();
            return null;
        } finally {
            waiting.decrementAndGet();
        }
    }

    /** New limits (a reload): slots are added at once, or taken away as running scripts finish. */
    public synchronized void resize(int running, int queued, Duration timeout) {
        int change = running - maxRunning;
        if (change > 0) {
            slots.release(change);
        } else if (change < 0) {
            slots.reduce(-change);
        }
        this.maxRunning = running;
        this.maxQueued = queued;
        this.queueTimeout = timeout;
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

    /** Requests refused so far: queue full, or waited out the queue timeout. */
    public long rejected() {
        return rejected.sum();
    }

    /** Whether a request arriving now would have to wait or be refused. */
    public boolean full() {
        return slots.availablePermits() == 0;
    }

    public int maxRunning() {
        return maxRunning;
    }

    /** Seconds a refused client should wait before trying again. */
    public long retryAfterSeconds() {
        return Math.max(1, queueTimeout.toSeconds());
    }

    /** A fair semaphore whose permits can be taken away. */
    private static final class Slots extends Semaphore {
        Slots(int permits) {
            super(permits, true);
        }

        void reduce(int n) {
            reducePermits(n);
        }
    }
}
