package dev.kiln.cache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
    private static final Set<String> FILESYSTEM_WIDE = Set.of("ENOSPC", "EDQUOT", "EROFS");
    private static final long RECHECK_NANOS = 3_000_000_000L;
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");

    private final Path root;
    private final Path prefix;
    private final ProcessUser user;
    private final CacheDiagnostics diagnostics;
    private final Map<CacheProblem.Key, CacheProblem> problems = new ConcurrentHashMap<>();
    private final LongAdder writeFailures = new LongAdder();

    private volatile CacheMode mode = CacheMode.OFF;
    private volatile String lastError;
    private volatile long nextCheckNanos;
    private volatile boolean insecure;

    public BytecodeCache(Path root) {
        this(root, ProcessUser.current());
    }

    BytecodeCache(Path root, ProcessUser user) {
        this.root = root.toAbsolutePath().normalize();
        this.prefix = this.root.resolve("py");
        this.user = user;
        this.diagnostics = new CacheDiagnostics(user);
        check();
    }

    public Path root() {
        return root;
    }

    /** The folder given to CPython as its pycache prefix. */
    public Path prefix() {
        return prefix;
    }

    /** What scripts may do with the cache now. Cheap; while it is not writable, it re-checks every few seconds. */
    public CacheMode mode() {
        if ((mode != CacheMode.RW || !problems.isEmpty()) && System.nanoTime() >= nextCheckNanos) {
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
     * A problem a script's loader met under the cache (it could not write or read a file there).
     *
     * @param dir the folder the fix applies to, or null to take the deepest existing one on the way to path
     */
    public void reported(CacheOp op, String errno, Path path, Path dir) {
        if (op != CacheOp.READ) {
            writeFailures.increment();
        }
        problem(new CacheProblem(op, errno, path, dir != null ? dir : CacheDiagnostics.nearestExisting(path)));
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
                LOG.info("created cache folder {} (mode 0700, owner {})", root, user.name());
            }
        } catch (IOException e) {
            return failed(CacheOp.MKDIR, root, e, CacheMode.OFF);
        }
        String unsafe = unsafeReason(root);
        if (unsafe != null) {
            if (!insecure) {
                insecure = true;
                lastError = "unsafe: " + unsafe;
                LOG.error("cache {} is not safe to load bytecode from: {}; bytecode is code, so Kiln runs scripts "
                        + "uncached until it is fixed; fix: chown {} {} && chmod 700 {}", root, unsafe, user.name(),
                        root, root);
            }
            return CacheMode.OFF;
        }
        if (insecure) {
            insecure = false;
            LOG.info("cache {} is private again", root);
        }
        try {
            if (!Files.isDirectory(prefix)) {
                Files.createDirectory(prefix, PosixFilePermissions.asFileAttribute(PRIVATE));
            }
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

    /** Null when the folder is private to Kiln's user (or root); otherwise why it is not. */
    private String unsafeReason(Path dir) {
        try {
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != user.uid() && owner != 0) {
                return "owned by uid " + owner + ", not by " + user.name() + " (uid " + user.uid() + ")";
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
            if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                return "writable by other users (mode " + PosixFilePermissions.toString(perms) + ")";
            }
            if (Files.isSymbolicLink(dir)) {
                return "a symbolic link";
            }
            return null;
        } catch (IOException | UnsupportedOperationException e) {
            return null; // cannot tell: the write probe will report what is wrong
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
            boolean fixed = Files.isDirectory(p.dir()) ? isWritableDir(p.dir(), bytes) : !Files.exists(p.dir());
            if (fixed) {
                problems.remove(p.key());
                LOG.info("cache folder {} is usable again ({} {} fixed): caching resumed", p.dir(), p.op().word(),
                        p.errno());
                recovered++;
            }
        }
        return recovered;
    }

    private static boolean isWritableDir(Path dir, int bytes) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        Path probe = dir.resolve(".kiln-probe-" + ProcessHandle.current().pid());
        try {
            Files.deleteIfExists(probe);
            Files.write(probe, new byte[bytes], StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException e) {
                // nothing was left if it could not be created
            }
        }
    }
}
