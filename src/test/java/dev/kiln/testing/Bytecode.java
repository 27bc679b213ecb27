package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Python bytecode on disk: Kiln promises none next to the scripts (no {@code __pycache__}, no {@code .pyc}) and
 * keeps it all in its cache, where the tests count and stamp it.
 */
public final class Bytecode {
    private Bytecode() {
    }

    /** Every {@code __pycache__} folder and {@code .pyc} file under {@code folder}. */
    public static List<Path> under(Path folder) throws IOException {
        return walk(folder, p -> p.getFileName().toString().equals("__pycache__") || p.toString().endsWith(".pyc"));
    }

    /** Fails, naming what it found, when there is any bytecode under {@code folder}. */
    public static void assertNoneUnder(Path folder) throws IOException {
        assertThat(under(folder)).as("bytecode under %s", folder).isEmpty();
    }

    /** The {@code .pyc} files under {@code folder} (none when it does not exist), sorted. */
    public static List<Path> pycs(Path folder) throws IOException {
        return walk(folder, p -> p.toString().endsWith(".pyc"));
    }

    /**
     * Each pyc under {@code folder} with its inode, mtime and size: equal stamps before and after mean nothing
     * was rewritten, not even with the same content.
     */
    public static Map<Path, String> stamps(Path folder) throws IOException {
        Map<Path, String> out = new TreeMap<>();
        for (Path p : pycs(folder)) {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            out.put(p, a.fileKey() + " " + a.lastModifiedTime() + " " + a.size());
        }
        return out;
    }

    private static List<Path> walk(Path folder, Predicate<Path> keep) throws IOException {
        if (!Files.exists(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(folder)) {
            return files.filter(keep).sorted().toList();
        }
    }
}
