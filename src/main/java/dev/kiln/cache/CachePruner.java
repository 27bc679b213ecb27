package dev.kiln.cache;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;

/**
 * Removes bytecode nobody will load again, and only what it has proven so: files of a cache tag whose
 * interpreters are all gone (an upgraded Python leaves its old files behind forever otherwise), and files whose
 * source is gone. The prefix mirrors absolute source paths, so {@code <prefix>/srv/cgi/mod.cpython-311.pyc}
 * belongs to {@code /srv/cgi/mod.py}, and {@code hgweb.cgi.__main__.cpython-311.pyc} to the entry script
 * {@code hgweb.cgi}. A source is gone when stat says it does not exist (a folder Kiln cannot read proves
 * nothing); a tag's interpreters are those some Kiln sharing the cache recorded ({@link #record}), and a tag
 * nobody recorded is kept: it may be another instance's.
 */
public final class CachePruner {

    /** What a prune removed. */
    public record Result(int files, long bytes, int staleTags, int goneSources) {
    }

    /** What kiln_pyc adds to an entry script's name for its pyc ({@code hgweb.cgi.__main__.py}). */
    private static final String MAIN = ".__main__";

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
        Set<String> goneTags = InterpreterRecords.gone(prefix, liveTags);
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
                boolean staleTag = goneTags.contains(p.tag());
                boolean gone = false;
                if (!staleTag && liveTags.contains(p.tag())) {
                    Path sourceDir = Path.of("/").resolve(prefix.relativize(file.getParent()).toString());
                    gone = p.stem().endsWith(MAIN)
                            ? provenMissing(sourceDir.resolve(p.stem().substring(0, p.stem().length() - MAIN.length())))
                            : provenMissing(sourceDir.resolve(p.stem() + ".py"))
                                    && provenMissing(sourceDir.resolve(p.stem() + ".pyw"))
                                    && provenMissing(sourceDir.resolve(p.stem()));
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
        InterpreterRecords.forget(prefix, goneTags);
        return new Result(counts[0] + counts[1], bytes[0], counts[0], counts[1]);
    }

    /** Notes that {@code tag} is the cache tag of {@code executable}, for every Kiln that prunes this cache. */
    public static void record(Path prefix, String tag, Path executable) throws IOException {
        InterpreterRecords.record(prefix, tag, executable);
    }

    /** True only when stat says {@code path} does not exist: an unreadable folder or any other error is no proof. */
    static boolean provenMissing(Path path) {
        try {
            Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return false;
        } catch (NoSuchFileException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
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
