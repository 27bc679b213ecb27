package dev.kiln.python;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.CacheMode;
import dev.kiln.config.PycValidation;
import dev.kiln.forkserver.ForkRefusedException;
import dev.kiln.forkserver.ForkRequest;
import dev.kiln.forkserver.ForkServer;
import dev.kiln.forkserver.ForkServerSpec;
import dev.kiln.forkserver.ForkServerStatus;
import dev.kiln.forkserver.ForkedChild;

/**
 * Kiln's fork-servers: one per interpreter and set of interpreter flags, started on first use and supervised. A
 * dead one is replaced on the next request; one whose preloaded files or interpreter changed is retired
 * (checked at most once a second, a stat per file); one that has served an hour is retired too, so children do
 * not share one str hash seed forever. After {@value #MAX_FAILURES} failures within a minute, Python scripts of
 * that interpreter run classic, with one ERROR, and a fork-server is tried again after a back-off.
 */
public final class ForkServers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.forkserver");
    static final int MAX_FAILURES = 3;
    private static final long FAILURE_WINDOW_NANOS = Duration.ofMinutes(1).toNanos();
    private static final long STALE_CHECK_NANOS = Duration.ofSeconds(1).toNanos();
    private static final Duration MAX_AGE = Duration.ofHours(1);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(30);

    /**
     * Which fork-server a script needs: a read-only cache (RO) gets one of its own that writes no bytecode; scripts
     * that are not Python share a lean one ({@link #forExec}) whose children exec them.
     */
    public record Key(Path python, List<String> flags, CacheMode cache, boolean exec) {
        /** Flags of the exec fork-server: isolated, no site (its children run no Python). */
        static final List<String> EXEC_FLAGS = List.of("-I", "-S");

        public Key {
            flags = List.copyOf(flags);
        }

        /** The fork-server for Python scripts run by {@code python} with {@code flags}. */
        public static Key forScripts(Path python, List<String> flags, CacheMode cache) {
            return new Key(python, flags, cache, false);
        }

        /** The fork-server whose children exec scripts that are not Python, as mod_cgid's daemon does. */
        public static Key forExec(Path python) {
            return new Key(python, EXEC_FLAGS, CacheMode.OFF, true);
        }
    }

    /** What every fork-server runs on: Kiln's runtime files, the cache, its validation, the scripts folder. */
    public record Basis(BytecodeCache cache, RuntimeFiles files, PycValidation validation, Path scriptsRoot) {
    }

    /** What the status shows: one entry per key that has had a fork-server. */
    public record Entry(String interpreter, Optional<ForkServerStatus> server, int restarts, boolean classicNow,
                        String lastFailure) {
    }

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Function<Key, ForkServerSpec> specs;
    private final Map<Key, Slot> slots = new ConcurrentHashMap<>();

    /** @param specs how to start the fork-server for a key */
    public ForkServers(Function<Key, ForkServerSpec> specs) {
        this.specs = specs;
    }

    /** What fork-servers start with: the variables every script starts from, with the cache's for its mode. */
    public static Map<String, String> startEnvironment(Map<String, String> scriptEnv, Path prefix, CacheMode mode) {
        Map<String, String> env = new LinkedHashMap<>(scriptEnv);
        PythonLauncher.cacheEnvironment(mode, prefix).forEach((name, value) -> {
            if (value == null) {
                env.remove(name);
            } else {
                env.put(name, value);
            }
        });
        return env;
    }

    /** How to start the fork-server of {@code key}: Kiln's runtime files, the cache in its mode, the preload list. */
    public static ForkServerSpec spec(Key key, Basis basis, Map<String, String> scriptEnv, List<String> preload) {
        Map<String, String> env = startEnvironment(scriptEnv, basis.cache().prefix(), key.cache());
        return new ForkServerSpec(key.python(), key.flags(), env, basis.files().current().dir(),
                key.cache().word(), basis.validation().word(), basis.scriptsRoot(),
                key.exec() ? List.of() : preload, START_TIMEOUT);
    }

    /** The running fork-server for {@code key}, started when needed; empty while that key runs classic. */
    Optional<ForkServer> server(Key key) {
        return slots.computeIfAbsent(key, Slot::new).server();
    }

    /**
     * Forks {@code request} on the fork-server of {@code key}, replacing one that fails, for up to {@code attempts}
     * tries. Empty when there is none now, or when it refuses the request ({@code refused} gets why): the caller
     * then starts the script its other way.
     */
    Optional<ForkedChild> fork(Key key, ForkRequest request, int attempts, Consumer<String> refused) {
        for (int attempt = 0; attempt < attempts; attempt++) {
            Optional<ForkServer> server = server(key);
            if (server.isEmpty()) {
                break;
            }
            try {
                return Optional.of(server.get().fork(request));
            } catch (ForkRefusedException e) {
                refused.accept(e.getMessage());
                break;
            } catch (IOException e) {
                failed(key, server.get(), e);
            }
        }
        return Optional.empty();
    }

    /** A fork-server that could not start a script: counted, closed, replaced on the next request. */
    void failed(Key key, ForkServer server, IOException why) {
        Slot slot = slots.get(key);
        if (slot != null) {
            slot.failed(server, why.getMessage());
        }
    }

    public List<Entry> status() {
        List<Entry> out = new ArrayList<>();
        slots.values().forEach(s -> out.add(s.entry()));
        return out;
    }

    @Override
    public void close() {
        slots.values().forEach(Slot::close);
    }

    /** One key's fork-server and its history; every change happens under the slot's lock. */
    private final class Slot {
        private final Key key;
        private final Deque<Long> failures = new ArrayDeque<>();
        private ForkServer current;
        private int restarts;
        private long nextStaleCheck;
        private long classicUntil;
        private Duration backoff = FIRST_BACKOFF;
        private String lastFailure;
        private boolean closed;

        Slot(Key key) {
            this.key = key;
        }

        synchronized Optional<ForkServer> server() {
            long now = System.nanoTime();
            if (closed || now < classicUntil) {
                return Optional.empty();
            }
            if (current != null && current.isAlive() && now >= nextStaleCheck) {
                nextStaleCheck = now + STALE_CHECK_NANOS;
                if (current.stale() || current.status().uptime().compareTo(MAX_AGE) > 0) {
                    LOG.info("fork-server {} (pid {}) {}: starting a new one", current.spec().interpreter(),
                            current.status().pid(), current.stale() ? "has changed preloaded files or interpreter"
                                    : "has served for an hour (fresh hash seed)");
                    current.retire();
                    current = null;
                }
            }
            if (current != null && !current.isAlive()) {
                failed(current, current.exitCause().orElse("it exited"));
            }
            if (current == null && now >= classicUntil) {
                try {
                    current = ForkServer.start(specs.apply(key));
                    if (restarts++ > 0 || lastFailure != null) {
                        LOG.info("fork-server {} started again (pid {})", current.spec().interpreter(),
                                current.status().pid());
                    }
                } catch (IOException | RuntimeException e) {
                    failed(null, e.getMessage());
                }
            }
            return Optional.ofNullable(current);
        }

        synchronized void failed(ForkServer server, String why) {
            if (server != null && server != current) {
                return; // already replaced
            }
            if (current != null) {
                current.close();
                current = null;
            }
            lastFailure = why;
            long now = System.nanoTime();
            failures.addLast(now);
            while (!failures.isEmpty() && now - failures.peekFirst() > FAILURE_WINDOW_NANOS) {
                failures.removeFirst();
            }
            LOG.warn("fork-server for {} failed: {}; the next request starts a new one", describe(), why);
            if (failures.size() >= MAX_FAILURES) {
                LOG.error("fork-server for {} failed {} times within a minute (last: {}); {} for {} s, then Kiln "
                        + "tries again; fix: see the fork-server's lines above, or set {}", describe(), failures.size(),
                        why, key.exec() ? "its scripts start from Kiln" : "its Python scripts run classic",
                        backoff.toSeconds(), key.exec() ? "exec-server=false" : "run-mode=classic");
                classicUntil = now + backoff.toNanos();
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofMinutes(30)) > 0 ? Duration.ofMinutes(30)
                        : backoff.multipliedBy(2);
                failures.clear();
            }
        }

        synchronized Entry entry() {
            return new Entry(describe(), Optional.ofNullable(current).map(ForkServer::status),
                    Math.max(0, restarts - 1), System.nanoTime() < classicUntil, lastFailure);
        }

        synchronized void close() {
            closed = true;
            if (current != null) {
                current.close();
                current = null;
            }
        }

        private String describe() {
            String python = key.flags().isEmpty() ? key.python().toString()
                    : key.python() + " " + String.join(" ", key.flags());
            if (key.exec()) {
                return python + " (execs scripts that are not Python)";
            }
            return key.cache() == CacheMode.RW ? python : python + " (read-only cache)";
        }
    }
}
