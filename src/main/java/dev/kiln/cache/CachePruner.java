package dev.kiln.cache;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;

/**
 * Removes bytecode nobody will load again: files whose cache tag belongs to no interpreter in use (an upgraded
 * Python leaves its old files behind forever otherwise) and files whose source is gone. The prefix mirrors
 * absolute source paths, so {@code <prefix>/srv/cgi/mod.cpython-311.pyc} belongs to {@code /srv/cgi/mod.py}.
 */
public final class CachePruner {

    /** What a prune removed. */
    public record Result(int files, long bytes, int staleTags, int goneSources) {
    }

    private CachePruner() {
    }

    /**
     * @param prefix   the cache's pycache prefix
     * @param liveTags the cache tags of the interpreters in use, e.g. cpython-311
     */
    public static Result prune(Path prefix, Set<String> liveTags) throws IOException {
        if (!Files.isDirectory(prefix)) {
            return new Result(0, 0, 0, 0);
        }
        long[] bytes = {0};
        int[] counts = {0, 0};
        Files.walkFileTree(prefix, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String name = file.getFileName().toString();
                if (!name.endsWith(".pyc") || !attrs.isRegularFile()) {
                    return FileVisitResult.CONTINUE;
                }
                Parsed p = parse(name);
                if (p == null) {
                    return FileVisitResult.CONTINUE;
                }
                boolean staleTag = !liveTags.contains(p.tag());
                boolean gone = false;
                if (!staleTag) {
                    Path sourceDir = Path.of("/").resolve(prefix.relativize(file.getParent()).toString());
                    gone = !Files.exists(sourceDir.resolve(p.stem() + ".py"))
                            && !Files.exists(sourceDir.resolve(p.stem() + ".pyw"))
                            && !Files.exists(sourceDir.resolve(p.stem()));
                }
                if (staleTag || gone) {
                    Files.deleteIfExists(file);
                    bytes[0] += attrs.size();
                    counts[staleTag ? 0 : 1]++;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (!dir.equals(prefix)) {
                    try (var entries = Files.list(dir)) {
                        if (entries.findAny().isEmpty()) {
                            Files.deleteIfExists(dir);
                        }
                    }
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return new Result(counts[0] + counts[1], bytes[0], counts[0], counts[1]);
    }

    /** {@code stem.TAG[.opt-N].pyc}; the stem may itself contain dots only before the tag. */
    record Parsed(String stem, String tag) {
    }

    static Parsed parse(String name) {
        String base = name.substring(0, name.length() - ".pyc".length());
        if (base.matches(".*\\.opt-\\d+")) {
            base = base.substring(0, base.lastIndexOf('.'));
        }
        int dot = base.lastIndexOf('.');
        if (dot <= 0) {
            return null;
        }
        return new Parsed(base.substring(0, dot), base.substring(dot + 1));
    }
}
