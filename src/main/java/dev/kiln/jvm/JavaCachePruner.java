package dev.kiln.jvm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Removes Java cache entries nobody will load again: their script is gone, or the JDK that compiled them. */
final class JavaCachePruner {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.java");

    private JavaCachePruner() {
    }

    static int prune(JavaCache cache) {
        if (!cache.usable(false)) {
            return 0;
        }
        int removed = 0;
        try (Stream<Path> entries = Files.list(cache.root())) {
            for (Path dir : entries.filter(Files::isDirectory).toList()) {
                removeLeftovers(dir);
                Properties m = new Properties();
                try (InputStream in = Files.newInputStream(dir.resolve("manifest"))) {
                    m.load(in);
                } catch (IOException | IllegalArgumentException e) {
                    continue; // being compiled, or torn: the next compile rewrites it
                }
                String source = m.getProperty("source", "");
                String java = m.getProperty("java", "");
                if (!Files.isRegularFile(Path.of(source)) || !Files.isExecutable(Path.of(java))) {
                    JavaCache.removeTree(dir);
                    removed++;
                    LOG.info("pruned the cached jar of {} ({} is gone)", source,
                            Files.isRegularFile(Path.of(source)) ? java : source);
                }
            }
        } catch (IOException e) {
            LOG.warn("pruning {} stopped: {}; fix: check the cache folder's permissions", cache.root(), e.toString());
        }
        return removed;
    }

    /** Build folders and temporary files a Kiln stopped mid-compile left behind, once they are an hour old. */
    private static void removeLeftovers(Path dir) throws IOException {
        long hourAgo = System.currentTimeMillis() - 3_600_000;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith(".")).toList()) {
                if (Files.getLastModifiedTime(f).toMillis() < hourAgo) {
                    JavaCache.removeTree(f);
                }
            }
        }
    }
}
