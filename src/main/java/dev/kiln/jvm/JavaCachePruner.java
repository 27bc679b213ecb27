package dev.kiln.jvm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
            removeLeftovers(cache.root()); // javac archives' build folders
            List<Path> all = entries.toList();
            for (Path f : all) {
                if (f.getFileName().toString().matches("javac-.*\\.jsa")) {
                    removed += pruneArchive(f);
                }
            }
            for (Path dir : all.stream().filter(Files::isDirectory).toList()) {
                removeLeftovers(dir);
                Properties m = new Properties();
                try (InputStream in = Files.newInputStream(dir.resolve("manifest"))) {
                    m.load(in);
                } catch (IOException | IllegalArgumentException e) {
                    continue; // being compiled, or torn: the next compile rewrites it
                }
                String source = m.getProperty("source", "");
                String java = m.getProperty("java", "");
                boolean sourceThere = Files.isRegularFile(Path.of(source));
                if (!sourceThere || !JdkRegistry.installed(Path.of(java), m.getProperty("version", ""))) {
                    JavaCache.removeTree(dir);
                    removed++;
                    LOG.info("pruned the cached jar of {} ({} is gone)", source,
                            sourceThere ? "JDK " + m.getProperty("version", "") + " at " + java : source);
                }
            }
        } catch (IOException e) {
            LOG.warn("pruning {} stopped: {}; fix: check the cache folder's permissions", cache.root(), e.toString());
        }
        return removed;
    }

    /** Removes a javac class archive whose javac is gone (or unknown: an archive is cheap to make again). */
    private static int pruneArchive(Path archive) throws IOException {
        Path owner = JavacArchives.owner(archive);
        List<String> javac = Files.isRegularFile(owner) ? Files.readAllLines(owner) : List.of();
        if (javac.size() == 2 && JdkRegistry.installed(Path.of(javac.get(0)), javac.get(1))) {
            return 0;
        }
        Files.deleteIfExists(archive);
        Files.deleteIfExists(owner);
        LOG.info("pruned javac's class archive {} ({} is gone)", archive, javac.size() == 2
                ? "JDK " + javac.get(1) + " at " + javac.get(0) : "its JDK");
        return 1;
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
