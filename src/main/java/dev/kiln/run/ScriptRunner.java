package dev.kiln.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns what every script run shares, whichever launcher started it: the threads that pump stdin and stderr and
 * wait for exits, the timer that enforces timeouts, the group signaller and the set of running scripts.
 */
public final class ScriptRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.run");
    private static final String SETSID = "/usr/bin/setsid";
    private static final String PRLIMIT = "/usr/bin/prlimit";
    /**
     * Joins the request's cgroup ($0: its cgroup.procs, or empty) before anything of the script runs, and enters
     * the script's folder ($1, a real path) checking that it is still that folder: the working folder is then
     * pinned, whatever is renamed later, and the script is named relative to it ({@link Command#argvInFolder}).
     */
    private static final String ENTER = "{ [ -z \"$0\" ] || echo $$ >\"$0\"; } && cd -P -- \"$1\" && "
            + "[ \"$PWD\" = \"$1\" ] && shift && exec \"$@\"; "
            + "echo \"kiln: $1 was moved or replaced while the script started; not run\" >&2; exit 126";
    /** How often timeouts are checked: they are enforced to within this. */
    private static final long SWEEP_MILLIS = 50;

    private volatile RunSettings settings;
    private volatile boolean closing;
    private final ScriptUser user;
    private final ExecServer execServer;
    private final ExecutorService pumps;
    private final ScheduledExecutorService timer;
    private final ProcessGroupSignaller signaller = new ProcessGroupSignaller();
    private final NativeEncoding nativeEncoding = NativeEncoding.ofThisJvm();
    private final Set<ScriptProcess> live = ConcurrentHashMap.newKeySet();
    private final Map<ScriptProcess.Stop, LongAdder> stops = new EnumMap<>(ScriptProcess.Stop.class);
    private final LongAdder kills = new LongAdder();
    private final OomKills oomKills = OomKills.ofThisProcess();
    private final Optional<RequestCgroups> cgroups;
    // One long-lived thread starts every exec'd script: a parent-death signal fires when the thread that forked
    // the child ends, and a request thread may end while its script still runs.
    private final ExecutorService execThread = Executors.newSingleThreadExecutor(daemon("kiln-exec"));

    /**
     * @param user       who every script runs as
     * @param execServer what starts exec'd scripts, or {@link ExecServer#NONE}
     */
    public ScriptRunner(RunSettings settings, ScriptUser user, ExecServer execServer) {
        this.settings = settings;
        this.execServer = execServer;
        for (ScriptProcess.Stop s : ScriptProcess.Stop.values()) {
            stops.put(s, new LongAdder());
        }
        this.user = user;
        this.cgroups = RequestCgroups.open();
        this.pumps = Executors.newCachedThreadPool(daemon("kiln-pump"));
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("kiln-timer"));
        timer.scheduleWithFixedDelay(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Enforces every running script's timeouts: one timer tick for all of them, not two tasks per request. */
    private void sweep() {
        long now = System.nanoTime();
        for (ScriptProcess p : live) {
            p.checkDeadlines(now);
        }
    }

    public RunSettings settings() {
        return settings;
    }

    /** New limits, for scripts started from now on (a reload); running scripts keep theirs. */
    public void update(RunSettings next) {
        this.settings = next;
    }

    public ScriptUser user() {
        return user;
    }

    /**
     * Starts {@code launch} by exec, as the script user, the leader of its own session and process group, in its
     * cgroup and under its limits: through the exec server when there is one, else from the JVM behind a prefix
     * that does each of those steps.
     */
    ScriptProcess exec(ExecLaunch launch, Map<String, String> env, Path workDir, String logName)
            throws IOException {
        Cage cage = cage();
        if (launch.argv().get(0).startsWith("/")) { // a bare name (the executable option) is looked up on PATH
            Map<String, String> confined = new HashMap<>(env);
            confined.putAll(confinement(cage));
            Optional<ChildProcess> child = execServer.start(launch.argv(), confined, workDir, user, logName);
            if (child.isPresent()) {
                return track(child.get(), logName, launch.stderr(), cage);
            }
        }
        List<String> cmd = new ArrayList<>();
        List<String> rlimits = settings.limits().prlimitOptions();
        if (!rlimits.isEmpty()) {
            cmd.add(PRLIMIT);
            cmd.addAll(rlimits);
            cmd.add("--");
        }
        // the request's cgroup is joined while still Kiln's user, then setpriv switches user with the parent-death
        // signal in the same call (a later uid change would clear it)
        cmd.addAll(List.of("/bin/sh", "-c", ENTER, cage.procs() == null ? "" : cage.procs().toString(),
                workDir.toString()));
        cmd.addAll(user.execPrefix());
        if (!launch.ownSession()) {
            cmd.add(SETSID);
        }
        cmd.addAll(launch.argv());
        Map<String, String> exactEnv = new HashMap<>(env);
        ProcessBuilder pb = new ProcessBuilder(nativeEncoding.exact(cmd, exactEnv)).directory(workDir.toFile());
        pb.environment().clear();
        pb.environment().putAll(exactEnv);
        try {
            return track(new JdkChildProcess(execThread.submit(pb::start).get()), logName, launch.stderr(), cage);
        } catch (ExecutionException e) {
            cage.close();
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            cage.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + logName, e);
        }
    }

    /**
     * A new cgroup for one request where Kiln has them, else {@link Cage#NONE}; every launcher asks for one
     * first, so once Kiln is stopping no script starts ({@link KilnStoppingException}).
     */
    public Cage cage() throws IOException {
        if (closing) {
            throw new KilnStoppingException();
        }
        return cgroups.isPresent() ? cgroups.get().create(settings.limits().processes()) : Cage.NONE;
    }

    /**
     * What a child that applies its own limits (a fork-server's) is told: the rlimits and the cgroup to join.
     */
    public Map<String, String> confinement(Cage cage) {
        Map<String, String> env = new HashMap<>();
        env.put(ScriptLimits.RLIMITS_VARIABLE, String.join(",", settings.limits().rlimits()));
        if (cage.procs() != null) {
            env.put(Cage.VARIABLE, cage.procs().toString());
        }
        return env;
    }

    /**
     * Drives a started script: pumps its stderr to the log at once, enforces the timeouts, and kills its group
     * and its cgroup when it exits. For launchers that start processes their own way (a fork-server).
     */
    public ScriptProcess track(ChildProcess child, String logName, StderrFilter stderr, Cage cage) {
        ScriptProcess p = new ScriptProcess(child, logName, stderr, cage, this);
        if (closing) {
            p.stop(ScriptProcess.Stop.SERVER_STOPPING); // started while close() went through live: stopped here
        }
        return p;
    }

    /** Once a script itself has exited: kills what it left in its cgroup, and says which limit ended it. */
    void ended(String name, Cage cage, int exitCode) {
        if (cage != Cage.NONE) {    // a cgroup to empty and remove: not on the thread that reports every exit
            pumps.execute(() -> cageEnded(name, cage, exitCode));
        } else {
            cageEnded(name, cage, exitCode);
        }
    }

    private void cageEnded(String name, Cage cage, int exitCode) {
        cage.close();
        long refused = cage.refusedForks();
        settings.limits().breach(exitCode, refused).ifPresent(why -> LOG.warn("{} (exit {}): {}", name,
                exitCode, why));
    }

    ExecutorService pumps() {
        return pumps;
    }

    ScheduledExecutorService timer() {
        return timer;
    }

    OomKills oomKills() {
        return oomKills;
    }

    ProcessGroupSignaller signaller() {
        return signaller;
    }

    Set<ScriptProcess> live() {
        return live;
    }

    void stopped(ScriptProcess.Stop reason) {
        stops.get(reason).increment();
    }

    void killed() {
        kills.increment();
    }

    /** Scripts Kiln stopped so far, by reason. */
    public Map<ScriptProcess.Stop, Long> stops() {
        Map<ScriptProcess.Stop, Long> out = new EnumMap<>(ScriptProcess.Stop.class);
        stops.forEach((reason, n) -> out.put(reason, n.sum()));
        return out;
    }

    /** Scripts that outlived the kill grace and were sent SIGKILL. */
    public long kills() {
        return kills.sum();
    }

    /** One script running now: its path below the scripts folder, its pid, how long it has run. */
    public record Running(String script, long pid, long elapsedMillis) {
    }

    /** The scripts running now, longest-running first. */
    public List<Running> runningNow() {
        List<Running> out = new ArrayList<>();
        for (ScriptProcess p : live) {
            out.add(new Running(p.script(), p.pid(), p.elapsedMillis()));
        }
        out.sort((a, b) -> Long.compare(b.elapsedMillis(), a.elapsedMillis()));
        return out;
    }

    /** Scripts running now. */
    public int running() {
        return live.size();
    }

    /** Stops every running script (SIGTERM, SIGKILL after the grace period), then the shared threads. */
    @Override
    public void close() {
        closing = true;
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
        cgroups.ifPresent(RequestCgroups::close);
        execThread.shutdownNow();
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
