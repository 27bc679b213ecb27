package dev.kiln.jvm;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.CacheDiagnostics;
import dev.kiln.cache.CacheMode;
import dev.kiln.cache.CacheOp;

/**
 * The Java side of the shared cache: {@code <cache>/java/<entry>/}, one entry folder per script, JDK and flags,
 * holding {@code manifest} (what the last compile read and gave), {@code <hash>.jar} and its AOT cache. Folders
 * are 0700 and files 0600 (0750 and 0640, group the script user's, when scripts run as another user); nothing is
 * loaded from it unless the cache is private ({@link BytecodeCache#safe()})
 * and so is its {@code java} folder. Failures are reported to the cache, which logs them once with their fix.
 */
final class JavaCache {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.java");
    static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> PRIVATE_FILE = PosixFilePermissions.fromString("rw-------");
    /** With a separate script user: its group reads what Kiln compiled (the cache's folders are setgid to it). */
    private static final Set<PosixFilePermission> SHARED_DIR = PosixFilePermissions.fromString("rwxr-x---");
    private static final Set<PosixFilePermission> SHARED_FILE = PosixFilePermissions.fromString("rw-r-----");

    private final BytecodeCache cache;
    private final Path root;
    private volatile boolean warnedUnsafe;

    JavaCache(BytecodeCache cache) {
        this.cache = cache;
        this.root = cache.root().resolve("java");
    }

    Path root() {
        return root;
    }

    /** Folders Kiln makes here: private, or readable by the script user's group when scripts run as another user. */
    Set<PosixFilePermission> dirMode() {
        return cache.shareGid() >= 0 ? SHARED_DIR : PRIVATE_DIR;
    }

    /** A file's mode in {@code dir}: readable by the group exactly where its folder is. */
    static Set<PosixFilePermission> fileModeIn(Path dir) {
        try {
            boolean shared = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS)
                    .contains(PosixFilePermission.GROUP_READ);
            return shared ? SHARED_FILE : PRIVATE_FILE;
        } catch (IOException e) {
            return PRIVATE_FILE;
        }
    }

    /** Whether jars may be loaded from the cache now, and (when {@code write}) compiled into it. */
    boolean usable(boolean write) {
        CacheMode mode = cache.mode();
        if (mode == CacheMode.OFF || !cache.safe() || (write && mode != CacheMode.RW)) {
            return false;
        }
        try {
            if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
                if (!write) {
                    return false;
                }
                Files.createDirectory(root, PosixFilePermissions.asFileAttribute(dirMode()));
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(root, LinkOption.NOFOLLOW_LINKS);
            if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                if (!warnedUnsafe) {
                    warnedUnsafe = true;
                    LOG.error("cache {} is writable by other users (mode {}): a jar there is code, so Java scripts run "
                            + "uncached from source until it is fixed; fix: chmod 700 {}", root,
                            PosixFilePermissions.toString(perms), root);
                }
                return false;
            }
            warnedUnsafe = false;
            return true;
        } catch (IOException e) {
            report(CacheOp.MKDIR, root, e);
            return false;
        }
    }

    /** The entry folder of a program: named by its script path, JDK and flags. */
    Path entryDir(JavaProgram program) {
        return root.resolve(sha256(program.script() + "\n" + program.flagsKey()).substring(0, 32));
    }

    /** Reports a failure under the cache: it logs the one line with its fix and tracks the recovery. */
    void report(CacheOp op, Path path, IOException e) {
        cache.reported(op, CacheDiagnostics.errno(e), path, null);
    }

    /** The compile recorded in an entry folder, if there is a readable one. */
    Optional<CompiledScript> load(Path dir) {
        Properties m = new Properties();
        try (InputStream in = Files.newInputStream(dir.resolve("manifest"))) {
            m.load(in);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty(); // unreadable or torn: compiled again
        }
        List<FileStamp> inputs = new ArrayList<>();
        for (int i = 0; m.containsKey("input." + i + ".path"); i++) {
            String p = "input." + i + ".";
            inputs.add(new FileStamp(Path.of(m.getProperty(p + "path")), Long.parseLong(m.getProperty(p + "size")),
                    Long.parseLong(m.getProperty(p + "mtime")), m.getProperty(p + "inode", "")));
        }
        List<String> errors = new ArrayList<>();
        for (int i = 0; m.containsKey("error." + i); i++) {
            errors.add(m.getProperty("error." + i));
        }
        String main = m.getProperty("main");
        CompiledScript c = new CompiledScript(dir, m.getProperty("hash", ""), main, errors, inputs,
                Long.parseLong(m.getProperty("compileMillis", "0")));
        return c.ok() && (main == null || !Files.isRegularFile(c.jar())) ? Optional.empty() : Optional.of(c);
    }

    /** Writes a compile's jar (when it compiled) and then its manifest, each atomically, 0600. */
    void store(CompiledScript c, JavaProgram program, Path classes) throws IOException {
        Files.createDirectories(c.dir(), PosixFilePermissions.asFileAttribute(dirMode()));
        if (classes != null) {
            Path tmp = privateTemp(c.dir(), ".jar");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                JarPacker.pack(classes, out);
            }
            Files.move(tmp, c.jar(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        Properties m = new Properties();
        m.setProperty("source", program.script().toString());
        m.setProperty("java", program.jdk().java().toString());
        m.setProperty("version", program.jdk().version());
        m.setProperty("hash", c.hash());
        m.setProperty("compileMillis", Long.toString(c.compileMillis()));
        if (c.mainClass() != null) {
            m.setProperty("main", c.mainClass());
        }
        for (int i = 0; i < c.inputs().size(); i++) {
            FileStamp s = c.inputs().get(i);
            String p = "input." + i + ".";
            m.setProperty(p + "path", s.path().toString());
            m.setProperty(p + "size", Long.toString(s.size()));
            m.setProperty(p + "mtime", Long.toString(s.mtime()));
            m.setProperty(p + "inode", s.inode());
        }
        for (int i = 0; i < c.errors().size(); i++) {
            m.setProperty("error." + i, c.errors().get(i));
        }
        Path tmp = privateTemp(c.dir(), ".manifest");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            m.store(out, "Kiln Java script cache entry");
        }
        Files.move(tmp, c.dir().resolve("manifest"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Removes what older compiles left in an entry folder, except the files of {@code keep} and of the compile
     * before it (a request that started just before this compile may still be opening that jar).
     */
    void removeOlder(Path dir, String keep, String previous) {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                boolean kept = name.equals("manifest") || name.startsWith(keep + ".")
                        || (previous != null && name.startsWith(previous + "."));
                if (!kept && !name.startsWith(".")) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            // left for prune
        }
    }

    static void removeTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static Path privateTemp(Path dir, String suffix) throws IOException {
        return Files.createTempFile(dir, ".tmp-", suffix, PosixFilePermissions.asFileAttribute(fileModeIn(dir)));
    }

    /** The hash of every source read (in order) and the flags: what names the jar. */
    static String hash(List<Path> sources, String flagsKey) throws IOException {
        MessageDigest d = digest();
        d.update(flagsKey.getBytes(StandardCharsets.UTF_8));
        for (Path p : sources) {
            d.update(p.toString().getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(Files.readAllBytes(p));
        }
        return HexFormat.of().formatHex(d.digest()).substring(0, 24);
    }

    static String sha256(String s) {
        return HexFormat.of().formatHex(digest().digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
