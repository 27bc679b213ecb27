package dev.kiln.jvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cache.CacheOp;

/**
 * Each Java script's current compile, kept in memory and in the cache. A request checks freshness with stat calls
 * only; the first request after a change compiles, and every request for the same entry meanwhile waits for
 * that one compile (single flight) instead of starting its own.
 */
final class CompiledScripts {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.java");

    /** One entry folder's compile and the lock its compiles take. */
    private static final class Slot {
        volatile CompiledScript current;
    }

    private final JavaCache cache;
    private final Javac javac;
    private final Map<Path, Slot> slots = new ConcurrentHashMap<>();

    CompiledScripts(JavaCache cache, Javac javac) {
        this.cache = cache;
        this.javac = javac;
    }

    /**
     * The program's fresh compile, compiling it now if needed; empty when the cache cannot hold it (the caller
     * runs the script from source, uncached).
     */
    Optional<CompiledScript> get(JavaProgram program, JavaStatistics.Counters counters) throws InterruptedException {
        Path dir = cache.entryDir(program);
        Slot slot = slots.computeIfAbsent(dir, d -> new Slot());
        CompiledScript c = slot.current;
        if (c != null && c.fresh() && cache.usable(false)) {
            return Optional.of(c);
        }
        synchronized (slot) {
            c = slot.current;
            if (c == null && cache.usable(false)) {
                c = cache.load(dir).orElse(null); // a compile an earlier Kiln (or precompile) made
            }
            if (c != null) {
                c = sameSources(c, program);
            }
            if (c != null && c.fresh() && cache.usable(false)) {
                slot.current = c;
                return Optional.of(c);
            }
            if (!cache.usable(true)) {
                return Optional.empty();
            }
            CompiledScript previous = c;
            c = compile(program, dir, counters);
            if (c != null) {
                slot.current = c;
                cache.removeOlder(dir, c.hash(), previous == null ? null : previous.hash());
            }
            return Optional.ofNullable(c);
        }
    }

    /**
     * A compile whose files now have other file keys only (a cache shipped in a container image sees its scripts
     * through another overlay mount; a copy kept the times): when their content still hashes to its jar's name,
     * it is current, restamped (and its manifest rewritten when the cache is writable); else it is stale.
     */
    private CompiledScript sameSources(CompiledScript c, JavaProgram program) {
        if (!c.ok() || !c.movedOnly()) {
            return c;
        }
        try {
            List<Path> sources = c.inputs().stream().map(FileStamp::path).toList();
            if (!JavaCache.hash(sources, program.flagsKey()).equals(c.hash())) {
                return c;
            }
            CompiledScript now = c.restamped();
            if (cache.usable(true)) {
                cache.store(now, program, null);
            }
            return now;
        } catch (IOException e) {
            return c; // compiled again, which reports what is wrong
        }
    }

    /** Compiles into the entry folder; null (the failure reported to the cache) when it cannot write there. */
    private CompiledScript compile(JavaProgram program, Path dir, JavaStatistics.Counters counters)
            throws InterruptedException {
        long start = System.nanoTime();
        FileStamp entryBefore = FileStamp.of(program.script());
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(cache.dirMode()));
        } catch (IOException e) {
            cache.report(CacheOp.MKDIR, dir, e);
            return null;
        }
        Path work = null;
        try {
            work = Files.createTempDirectory(dir, ".build-");
            Javac.Outcome o = javac.compile(program, work);
            List<FileStamp> inputs = new ArrayList<>();
            inputs.add(entryBefore);
            o.inputs().stream().skip(1).map(FileStamp::of).forEach(inputs::add);
            if (!o.errors().isEmpty()) {
                Set<Path> folders = new LinkedHashSet<>();
                o.inputs().forEach(p -> folders.add(p.getParent()));
                folders.forEach(f -> inputs.add(FileStamp.of(f)));
            }
            String hash = JavaCache.hash(o.inputs(), program.flagsKey());
            long millis = (System.nanoTime() - start) / 1_000_000;
            CompiledScript c = new CompiledScript(dir, hash, o.mainClass(), o.errors(), inputs, millis);
            cache.store(c, program, o.classes());
            counters.compiles.increment();
            counters.compileMillis.add(millis);
            if (c.ok()) {
                LOG.info("compiled {} with {} in {} ms ({} source files, main class {})", program.script(),
                        program.jdk().javac(), millis, o.inputs().size(), o.mainClass());
            } else {
                counters.compileErrors.increment();
                LOG.warn("{} does not compile ({} errors); it answers 500 until one of its files changes",
                        program.script(), c.errors().size());
                c.errors().forEach(e -> LOG.warn("{}", e));
            }
            return c;
        } catch (IOException e) {
            cache.report(CacheOp.WRITE, work == null ? dir : work, e);
            return null;
        } finally {
            removeQuietly(work);
        }
    }

    private static void removeQuietly(Path work) {
        try {
            if (work != null) {
                JavaCache.removeTree(work);
            }
        } catch (IOException e) {
            // a leftover build folder starts with '.': later compiles and prune leave it alone
        }
    }
}
