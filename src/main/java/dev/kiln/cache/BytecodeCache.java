package dev.kiln.cache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kiln's one shared bytecode cache and its health: a folder outside the scripts' folders that holds every
 * compiled entry script and module, for every interpreter (files are named by cache tag, so versions never
 * clash). Per-script counters are {@link ScriptStatistics}'.
 *
 * <p>It knows whether it can be used ({@link #mode()}), checks itself again every few seconds while it cannot,
 * logs each cause of failure once with its fix, and logs the recovery once. It never lets bytecode be loaded
 * from a folder another user could write to.
 */
public final class BytecodeCache {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.cache");
    static final Set<String> FILESYSTEM_WIDE = Set.of("ENOSPC", "EDQUOT", "EROFS");
    /** How often the folders' ownership and modes are looked at again, whatever happens: a few stats a second. */
    private static final long RECHECK_NANOS = 1_000_000_000L;
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");

    private final Path root;
    private final Path prefix;
    private final int shareGid;
    private final ProcessUser user;
    private final CacheDiagnostics diagnostics;
    private final CacheFolders folders;
    private final Map<CacheProblem.Key, CacheProblem> problems = new ConcurrentHashMap<>();
    private final LongAdder writeFailures = new LongAdder();

    private volatile CacheMode mode = CacheMode.OFF;
    private volatile String lastError;
    private volatile long nextCheckNanos;
    private volatile boolean insecure;

    /**
     * @param shareGid the script user's group, which may read (never write) the cache when scripts run as
     *                 another user than Kiln's; -1 keeps it private to Kiln's user
     */
    public BytecodeCache(Path root, int shareGid) {
        this(root, shareGid, ProcessUser.current());
    }

    BytecodeCache(Path root, int shareGid, ProcessUser user) {
        this.root = root.toAbsolutePath().normalize();
        this.prefix = this.root.resolve("py");
        this.shareGid = shareGid;
        this.user = user;
        this.diagnostics = new CacheDiagnostics(user);
        this.folders = new CacheFolders(user, shareGid);
        check();
    }

    public Path root() {
        return root;
    }

    /** The folder given to CPython as its pycache prefix. */
    public Path prefix() {
        return prefix;
    }

    /** The group that may read the cache, or -1 when it is Kiln's user's alone. */
    public int shareGid() {
        return shareGid;
    }

    /** The folder Kiln's own Python files are written to while the cache is safe. */
    public Path runtimeDir() {
        return root.resolve("runtime");
    }

    /**
     * What Kiln may do with the cache now. Cheap: the folders' owners and modes are looked at again at most once
     * a second (a few stats), so a change made while Kiln runs is seen within a second.
     */
    public CacheMode mode() {
        if (System.nanoTime() >= nextCheckNanos) {
            check();
        }
        return mode;
    }

    /**
     * Whether the folder is private to Kiln. Kiln's own Python files live in it only while it is: in a folder
     * others can write to they could be replaced, and they run for every request.
     */
    public boolean safe() {
        mode();
        return !insecure;
    }

    public String lastError() {
        return lastError;
    }

    /** Every failure scripts' loaders reported writing under the cache (mkdir, write, lock), logged or not. */
    public long writeFailures() {
        return writeFailures.sum();
    }

    /** One problem as the log said it: what failed, why, and the fix. */
    public String describe(CacheProblem p) {
        return diagnostics.describe(p, root);
    }

    public List<CacheProblem> problems() {
        return List.copyOf(problems.values());
    }

    /**
     * A problem a script's loader says it met under the cache (it could not write or read a file there). A script
     * can write such a line itself, so it counts only on a path inside the cache and once Kiln has seen the
     * problem for itself ({@link #confirmed}); anything else is ignored.
     *
     * @param dir the folder the fix applies to, or null to take the deepest existing one on the way to path
     */
    public void reported(CacheOp op, String errno, Path path, Path dir) {
        Path p = path.toAbsolutePath().normalize();
        Path d = dir == null ? null : dir.toAbsolutePath().normalize();
        if (!p.startsWith(root)) {
            return;
        }
        if (d == null || !d.startsWith(root) || !p.startsWith(d)) {
            d = CacheDiagnostics.nearestExisting(p);
        }
        CacheProblem problem = new CacheProblem(op, errno, p, d);
        if (problems.containsKey(problem.key()) || !folders.confirmed(op, errno, p, d)) {
            return;
        }
        if (op != CacheOp.READ) {
            writeFailures.increment();
        }
        problem(problem);
        nextCheckNanos = System.nanoTime(); // look at the root again on the next request
    }

    /** Re-examines the cache folder now: safety first, then whether it can be written, then read. */
    public synchronized void check() {
        nextCheckNanos = System.nanoTime() + RECHECK_NANOS;
        CacheMode before = mode;
        mode = examine();
        int recovered = resolveRecovered();
        if (before != CacheMode.RW && mode == CacheMode.RW && lastError != null && recovered == 0) {
            LOG.info("cache {} is writable again: caching resumed", root);
        }
        if (mode == CacheMode.RW && problems.isEmpty()) {
            lastError = null;
        }
    }

    private CacheMode examine() {
        try {
            if (!Files.isDirectory(root)) {
                Files.createDirectories(root.getParent());
                Files.createDirectory(root, PosixFilePermissions.asFileAttribute(PRIVATE));
                folders.share(root);
                LOG.info("created cache folder {} (mode {}, owner {})", root, shareGid < 0 ? "0700"
                        : "2750, group " + shareGid, user.name());
            }
        } catch (IOException e) {
            return failed(CacheOp.MKDIR, root, e, CacheMode.OFF);
        }
        for (Path dir : List.of(root, prefix, runtimeDir())) {
            String unsafe = folders.unsafeReason(dir);
            if (unsafe != null) {
                if (!insecure) {
                    insecure = true;
                    lastError = "unsafe: " + dir + " is " + unsafe;
                    LOG.error("cache {} is not safe to load bytecode from: {} is {}; bytecode is code, so Kiln runs "
                            + "scripts uncached until it is fixed; fix: chown -R {} {} && chmod -R go-w {}", root, dir,
                            unsafe, user.name(), root, root);
                }
                return CacheMode.OFF;
            }
        }
        if (insecure) {
            insecure = false;
            LOG.info("cache {} is private again", root);
        }
        try {
            if (!Files.isDirectory(prefix)) {
                Files.createDirectory(prefix, PosixFilePermissions.asFileAttribute(PRIVATE));
            }
            folders.share(root);
            folders.share(prefix);
        } catch (IOException e) {
            return failed(CacheOp.MKDIR, prefix, e, Files.isDirectory(prefix) ? CacheMode.RO : CacheMode.OFF);
        }
        Path probe = prefix.resolve(".kiln-probe-" + ProcessHandle.current().pid());
        try {
            Files.deleteIfExists(probe);
            Files.createFile(probe, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            Files.delete(probe);
            forget(CacheOp.PROBE, prefix);
            return CacheMode.RW;
        } catch (IOException e) {
            CacheMode fallback = Files.isReadable(prefix) && Files.isExecutable(prefix) ? CacheMode.RO : CacheMode.OFF;
            return failed(CacheOp.PROBE, prefix, e, fallback);
        }
    }

    private CacheMode failed(CacheOp op, Path path, IOException e, CacheMode fallback) {
        String errno = CacheDiagnostics.errno(e);
        problem(new CacheProblem(op, errno, path, CacheDiagnostics.nearestExisting(path)));
        return fallback;
    }

    private void problem(CacheProblem reported) {
        // A full or read-only filesystem is one cause wherever it shows: report it for the cache folder once,
        // not once per folder a module happened to be written to.
        CacheProblem p = FILESYSTEM_WIDE.contains(reported.errno()) && reported.path().startsWith(root)
                ? new CacheProblem(reported.op(), reported.errno(), reported.path(), root) : reported;
        if (problems.putIfAbsent(p.key(), p) != null) {
            return; // already logged while it lasts
        }
        String line = diagnostics.describe(p, root);
        lastError = line;
        if (p.errno().equals("EROFS") && p.op() == CacheOp.PROBE) {
            LOG.info("cache {} is on a read-only filesystem: using its bytecode as is, compiling what it lacks in "
                    + "memory ({})", root, line);
        } else {
            LOG.warn("cache {}; scripts keep running, uncached where needed", line);
        }
    }

    private void forget(CacheOp op, Path dir) {
        problems.keySet().removeIf(k -> k.op() == op && k.dir().equals(dir));
    }

    /** Drops problems whose folder is usable again, logging each recovery once; returns how many. */
    private int resolveRecovered() {
        int recovered = 0;
        for (CacheProblem p : problems.values()) {
            if (p.op() == CacheOp.PROBE) {
                continue; // the probe forgets its own problem when it succeeds
            }
            // an empty file fits on a full disk: only writing real bytes proves there is room again
            int bytes = FILESYSTEM_WIDE.contains(p.errno()) ? 64 * 1024 : 0;
            boolean fixed = Files.isDirectory(p.dir()) ? CacheFolders.isWritableDir(p.dir(), bytes)
                    : !Files.exists(p.dir());
            if (fixed) {
                problems.remove(p.key());
                LOG.info("cache folder {} is usable again ({} {} fixed): caching resumed", p.dir(), p.op().word(),
                        p.errno());
                recovered++;
            }
        }
        return recovered;
    }

}
