package dev.kiln.jvm;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/** Packs class files into a jar in Kiln's own process: AOT and CDS archive classes from jars only. */
final class JarPacker {
    /** A fixed entry time: the same classes give the same jar. */
    private static final long EPOCH_2000 = 946_684_800_000L;

    private JarPacker() {
    }

    static void pack(Path classes, OutputStream target) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(classes)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        try (JarOutputStream jar = new JarOutputStream(target)) {
            for (Path f : files) {
                JarEntry e = new JarEntry(classes.relativize(f).toString().replace('\\', '/'));
                e.setTime(EPOCH_2000);
                jar.putNextEntry(e);
                Files.copy(f, jar);
                jar.closeEntry();
            }
        }
    }
}
