package dev.kiln.run;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Starts scripts as leaders of their own process group and owns what every run shares: the threads that pump
 * stdin and stderr, the timer that enforces timeouts, and the group signaller.
 */
public final class ScriptRunner implements AutoCloseable {
    private static final String SETSID = "/usr/bin/setsid";

    private final RunSettings settings;
    private final ExecutorService pumps;
    private final ScheduledExecutorService timer;
    private final ProcessGroupSignaller signaller = new ProcessGroupSignaller();
    private final Set<ScriptProcess> live = ConcurrentHashMap.newKeySet();

    public ScriptRunner(RunSettings settings) {
        this.settings = settings;
        this.pumps = Executors.newCachedThreadPool(daemon("kiln-pump"));
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("kiln-timer"));
    }

    public RunSettings settings() {
        return settings;
    }

    /**
     * Starts the script. Its stdin, stdout and stderr are pipes; stderr is pumped to the log at once.
     *
     * @throws IOException when the process cannot be created (the caller answers 500)
     */
    public ScriptProcess start(Launch launch, StderrSink sink) throws IOException {
        List<String> cmd = new ArrayList<>(launch.argv().size() + 1);
        if (!launch.ownSession()) {
            cmd.add(SETSID);
        }
        cmd.addAll(launch.argv());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(launch.workDir().toFile());
        pb.environment().clear();
        pb.environment().putAll(launch.env());
        Process process = pb.start();
        return new ScriptProcess(process, launch, settings, sink, pumps, timer, signaller, live);
    }

    /** Scripts running now. */
    public int running() {
        return live.size();
    }

    /** Stops every running script (SIGTERM, SIGKILL after the grace period), then the shared threads. */
    @Override
    public void close() {
        for (ScriptProcess p : live) {
            p.stop(ScriptProcess.Stop.SERVER_STOPPING);
        }
        long deadline = System.nanoTime() + settings.killGrace().toNanos();
        for (ScriptProcess p : live) {
            try {
                p.waitForExit(Math.max(0, deadline - System.nanoTime()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (ScriptProcess p : live) {
            signaller.signal(p.pid(), "KILL");
        }
        pumps.shutdownNow();
        timer.shutdownNow();
        signaller.close();
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
