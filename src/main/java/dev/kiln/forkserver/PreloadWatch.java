package dev.kiln.forkserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The files a fork-server's children would otherwise read at every start: the interpreter binary and the
 * preloaded modules' sources. One stat each tells whether any changed since the fork-server loaded it.
 */
final class PreloadWatch {
    private record Loaded(Path path, long micros) {
    }

    private final Path interpreter;
    private final List<Loaded> files = new CopyOnWriteArrayList<>();

    PreloadWatch(Path python) {
        Path real;
        try {
            real = python.toRealPath();
        } catch (IOException e) {
            real = python;
        }
        interpreter = real;
        files.add(new Loaded(real, micros(real)));
    }

    /** The interpreter's real binary, as /proc shows it for the fork-server's children. */
    Path interpreter() {
        return interpreter;
    }

    void add(Path path, long mtimeNanos) {
        files.add(new Loaded(path, TimeUnit.NANOSECONDS.toMicros(mtimeNanos)));
    }

    boolean changed() {
        for (Loaded f : files) {
            if (micros(f.path()) != f.micros()) {
                return true;
            }
        }
        return false;
    }

    private static long micros(Path path) {
        try {
            return Files.getLastModifiedTime(path).to(TimeUnit.MICROSECONDS);
        } catch (IOException e) {
            return -1;      // gone: changed
        }
    }
}
