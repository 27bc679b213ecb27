package dev.kiln.forkserver;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A warm Python that forks a child per request ({@code kiln_forkserver.py} documents the protocol byte by byte).
 * Java cannot pass file descriptors, so the child's stdio are sockets Kiln connects itself: one CONTROL connection
 * per fork-server, read by one thread (exits, refusals, spawned pids, notes); per request two more, each opened
 * with a header naming the request id: stdout, on which a forked child first writes its pid, and stdin+stderr,
 * which first carries the request (argv, folder, environment as bytes, uid/gid). With both, the fork-server forks
 * (or, for an exec without user or cgroup, spawns and reports the pid on CONTROL); the child has them as fds 0-2.
 * No thread and no {@link Process} per request.
 *
 * <p>A child is what {@code python [flags] kiln_boot.py ...} would be with the request's environment and folder
 * (kiln_forkchild.py lists what differs: hash seed and memory layout shared by the fork-server's children, the
 * preloaded modules already imported, the parent pid, sockets instead of pipes, a frozen inherited heap).
 * Start-up variables must match the fork-server's, or it refuses the request ({@link ForkRefusedException}).
 *
 * <p>When CONTROL closes (this closes, or Kiln dies) the fork-server kills every child's group and exits. When the
 * fork-server dies, children in flight complete as killed ({@code 137}), their sockets close, and pending forks
 * fail; {@link #onExit} tells the owner, who may start a new one. All children share one str hash seed: an owner
 * that wants fresh ones {@link #retire}s a fork-server after some children or minutes.
 */
public final class ForkServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.forkserver");
    private static final Duration FORK_TIMEOUT = Duration.ofSeconds(10);

    private final ForkServerSpec spec;
    private final Process process;
    private final SocketFolder folder;
    private final UnixDomainSocketAddress address;
    private final SocketChannel control;
    private final Object controlWrites = new Object();
    private final Instant startedAt = Instant.now();
    private final long startNanos = System.nanoTime();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong served = new AtomicLong();
    private final InFlight children = new InFlight();
    private final PreloadWatch preloaded;
    private final List<Consumer<ForkServer>> exitListeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean retired;
    private final CompletableFuture<String> exited = new CompletableFuture<>();
    private final Thread reader;
    private final Thread watchdog;

    private ForkServer(ForkServerSpec spec, Process process, SocketFolder folder, SocketChannel control) {
        this.spec = spec;
        this.process = process;
        this.folder = folder;
        this.address = UnixDomainSocketAddress.of(folder.socket());
        this.control = control;
        this.preloaded = new PreloadWatch(spec.python());
        this.reader = new Thread(new ControlReader(control, this), "kiln-forkserver-" + process.pid());
        reader.setDaemon(true);
        this.watchdog = new Thread(this::watch, "kiln-forkserver-watchdog-" + process.pid());
        watchdog.setDaemon(true);
    }

    /** Starts a fork-server and waits until it has imported its preload list and listens. */
    public static ForkServer start(ForkServerSpec spec) throws IOException {
        Launched launched = Launched.start(spec);
        ForkServer server = new ForkServer(spec, launched.process(), launched.folder(), launched.control());
        server.reader.start();
        server.watchdog.start();
        return server;
    }

    /**
     * Starts one script; returns once it runs (its pid known). Its stdin, stdout and stderr are the caller's to
     * drive and close, as with a {@link Process}.
     *
     * @throws ForkRefusedException when the fork-server will not start this request (it stays usable)
     * @throws IOException          when the fork-server is gone or does not answer
     */
    public ForkedChild fork(ForkRequest request) throws IOException {
        if (exited.isDone() || retired) {
            throw new IOException(describe() + " is not running: " + exited.getNow("retired"));
        }
        long id = ids.incrementAndGet();
        boolean spawns = request.spawns();
        byte[] frame = request.encode(id, spawns);
        SocketChannel out = SocketChannel.open(StandardProtocolFamily.UNIX);
        SocketChannel io = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            out.connect(address);
            Channels.writeFully(out, ForkRequest.header('O', id));
            io.connect(address);
        } catch (IOException e) {
            Channels.closeQuietly(out);
            Channels.closeQuietly(io);
            throw new IOException(describe() + " cannot be reached: " + e.getMessage(), e);
        }
        ForkedChild child = new ForkedChild(this, out, io);
        children.add(id, child);
        if (exited.isDone() && children.remove(id)) {
            child.failed(new IOException(describe() + " " + exited.join()));  // died while we connected
        }
        long pid;
        try {
            Channels.writeFully(io, frame);
            // a forked child writes it first: no round trip through CONTROL; a spawned one's comes there
            pid = spawns ? child.awaitSpawned(FORK_TIMEOUT) : child.readPid();
        } catch (IOException e) {
            pid = -1;                   // closed by the watchdog or by the fork-server's death
        }
        if (pid > 0 && (spawns || child.begin(pid))) {
            served.incrementAndGet();
            return child;
        }
        if (pid > 0) {
            command("kill " + pid + " 9");  // it started after all, too late: nobody reads it
        }
        IOException why = child.failure(FORK_TIMEOUT);     // "refused" comes on CONTROL, after the close
        children.remove(id);
        throw why;
    }

    public boolean isAlive() {
        return !exited.isDone();
    }

    /** Why it is no longer running ({@code stopped} after {@link #close()}), or empty while it runs. */
    public Optional<String> exitCause() {
        return Optional.ofNullable(exited.getNow(null));
    }

    /** Calls {@code listener} once, on the control thread, when the fork-server has died or been closed. */
    public void onExit(Consumer<ForkServer> listener) {
        exitListeners.add(listener);
        if (exited.isDone() && exitListeners.remove(listener)) {
            listener.accept(this);
        }
    }

    public ForkServerStatus status() {
        return new ForkServerStatus(process.pid(), spec.interpreter(), Duration.ofNanos(System.nanoTime() - startNanos),
                served.get(), children.size(), isAlive());
    }

    public ForkServerSpec spec() {
        return spec;
    }

    /** The preloaded source files, the interpreter binary among them: when one changed, start a new server. */
    public boolean stale() {
        return preloaded.changed();
    }

    /**
     * Takes no more scripts and closes once those in flight have exited: how to replace a fork-server whose
     * preloaded files changed ({@link #stale()}), or that has served long enough to want a new hash seed.
     */
    public void retire() {
        retired = true;
        if (children.isEmpty()) {
            close();
        }
    }

    /** Kills every child and the fork-server, removes its socket folder. Idempotent. */
    @Override
    public void close() {
        if (closing.compareAndSet(false, true)) {
            Channels.closeQuietly(control);       // the fork-server kills its children and exits
        }
        try {
            if (Thread.currentThread() != reader) {
                reader.join(TimeUnit.SECONDS.toMillis(5));
            }
            if (Thread.currentThread() != watchdog) {
                watchdog.join(TimeUnit.SECONDS.toMillis(1));    // interrupted once the reader saw the end
            }
            if (!process.waitFor(3, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        folder.delete();
    }

    // ------------------------------------------------------------ from the control thread

    void exited(long id, int status) {
        children.exited(id, status);
        if (retired && children.isEmpty()) {
            close();
        }
    }

    void spawned(long id, long pid) {
        if (!children.spawned(id, pid)) {
            command("kill " + pid + " 9");      // its fork() gave up meanwhile: nobody reads it
        }
    }

    void refused(long id, String reason) {
        children.refused(id, new ForkRefusedException(describe() + " refused the script: " + reason));
    }

    void loaded(long mtimeNanos, String path) {
        preloaded.add(Path.of(path), mtimeNanos);
    }

    void note(String text) {
        LOG.warn("{}: {}", describe(), text);
    }

    void died(String readerCause) {
        boolean deliberate = closing.get();
        String cause = deliberate ? "stopped" : Launched.crashCause(process, folder, readerCause);
        exited.complete(cause);
        watchdog.interrupt();       // now, not at its next tick: a container undeploying Kiln finds no thread left
        // stopped, the fork-server killed its children itself; dead, it left them to us
        LongConsumer orphans = deliberate ? pid -> { } : pid -> Orphans.kill(pid, preloaded.interpreter(), startedAt);
        int lost = children.lose(new IOException(describe() + " " + cause), orphans);
        if (!deliberate) {
            LOG.error("{} {}; {} script(s) in flight were killed; fix: a crash names its cause here, a kill came "
                    + "from outside (the OOM killer logs it in dmesg)", describe(), cause, lost);
            process.destroyForcibly();
            folder.delete();
        }
        for (Consumer<ForkServer> listener : exitListeners) {
            if (exitListeners.remove(listener)) {   // once each, with onExit() racing this
                try {
                    listener.accept(this);
                } catch (RuntimeException e) {
                    LOG.warn("{}: exit listener failed: {}", describe(), e.toString());
                }
            }
        }
    }

    /** Fails forks the fork-server has not answered in time (it is alive but stuck). */
    private void watch() {
        while (!exited.isDone()) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            children.expire(FORK_TIMEOUT, () -> new IOException(describe() + " did not start the script within "
                    + FORK_TIMEOUT.toSeconds() + " s"));
        }
    }

    // ------------------------------------------------------------ helpers

    void signal(ForkedChild child, boolean group, int signal) {
        long pid = child.pid();
        if (pid > 0 && child.isAlive()) {
            command((group ? "killpg " : "kill ") + pid + " " + signal);
        }
    }

    /** Has it read these pycs and keep their code for its next children; all in one write. */
    void warm(List<WarmCode> pycs) {
        if (!pycs.isEmpty()) {
            command(pycs.stream().map(WarmCode::command).collect(Collectors.joining("\n")));
        }
    }

    private void command(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.US_ASCII);
        synchronized (controlWrites) {
            try {
                Channels.writeFully(control, bytes);
            } catch (IOException e) {
                // the fork-server is gone: the control thread reports it, and its children were killed
            }
        }
    }

    private String describe() {
        return "fork-server " + spec.interpreter() + " (pid " + process.pid() + ")";
    }
}
