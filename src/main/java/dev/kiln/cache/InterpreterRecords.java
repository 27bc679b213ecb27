package dev.kiln.cache;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which interpreters each cache tag in a shared cache belongs to: {@code <cache>/interpreters/<tag>} lists, one a
 * line, the real binaries any Kiln using the cache ran with that tag. A tag is gone when it has a record and
 * every binary in it is proven missing; without a record nothing is known, and its files stay.
 */
final class InterpreterRecords {
    private InterpreterRecords() {
    }

    private static Path folder(Path prefix) {
        return prefix.resolveSibling("interpreters");
    }

    static void record(Path prefix, String tag, Path executable) throws IOException {
        if (tag.isEmpty() || tag.contains("/") || tag.startsWith(".")) {
            return;
        }
        Path file = folder(prefix).resolve(tag);
        if (Files.exists(file) && Files.readAllLines(file, StandardCharsets.UTF_8).contains(executable.toString())) {
            return;
        }
        // the cache's modes: readable by the script user's group exactly where the cache folder is
        boolean shared = Files.getPosixFilePermissions(prefix.getParent()).contains(PosixFilePermission.GROUP_READ);
        if (!Files.isDirectory(file.getParent())) {
            Files.createDirectories(file.getParent(), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString(shared ? "rwxr-x---" : "rwx------")));
        }
        Files.writeString(file, executable + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(shared ? "rw-r-----" : "rw-------"));
    }

    /** The recorded tags, not among {@code live}, whose binaries are all proven missing. */
    static Set<String> gone(Path prefix, Set<String> live) throws IOException {
        Set<String> gone = new HashSet<>();
        Path folder = folder(prefix);
        if (!Files.isDirectory(folder)) {
            return gone;
        }
        try (var files = Files.list(folder)) {
            for (Path file : files.toList()) {
                String tag = file.getFileName().toString();
                List<String> binaries = Files.readAllLines(file, StandardCharsets.UTF_8);
                if (!live.contains(tag) && !binaries.isEmpty()
                        && binaries.stream().allMatch(b -> CachePruner.provenMissing(Path.of(b)))) {
                    gone.add(tag);
                }
            }
        }
        return gone;
    }

    static void forget(Path prefix, Set<String> tags) throws IOException {
        for (String tag : tags) {
            Files.deleteIfExists(folder(prefix).resolve(tag));
        }
    }
}
