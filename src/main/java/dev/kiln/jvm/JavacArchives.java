package dev.kiln.jvm;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dynamic CDS archive of javac itself, per JDK ({@code <cache>/java/javac-<key>.jsa}): a first request's
 * compile is a JVM start too, and javac's classes from an archive start it about a third faster. Built on a
 * background thread after the JDK's first compile, by compiling a small program; compiles use it once it exists.
 */
final class JavacArchives implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.java");
    /** Touches what scripts commonly use (in Java 13's language, so every JDK that gets an archive takes it). */
    private static final String PROBE = String.join("\n",
            "import java.util.*;", "import java.util.function.*;", "import java.util.stream.*;",
            "public class Probe {",
            "    interface Shape { double area(); }",
            "    static final class Square implements Shape {",
            "        private final double side;",
            "        Square(double side) { this.side = side; }",
            "        @Override public double area() { return side * side; }",
            "    }",
            "    enum Colour { RED, GREEN }",
            "    static <T extends Comparable<T>> T max(List<T> items) { return Collections.max(items); }",
            "    public static void main(String[] args) throws Exception {",
            "        Map<String, List<Integer>> m = new TreeMap<>();",
            "        Function<String, Integer> f = String::length;",
            "        var text = Stream.of(args).map(f).map(String::valueOf).collect(Collectors.joining(\",\"));",
            "        Shape s = new Square(2);",
            "        Runnable r = new Runnable() { public void run() { m.put(text, List.of(1, 2)); } };",
            "        r.run();",
            "        switch (Colour.valueOf(\"RED\")) { case RED: break; default: throw new IllegalStateException(); }",
            "        try { Integer.parseInt(\"x\"); } catch (NumberFormatException e) { s = new Square(3); }",
            "        System.out.print(String.format(\"%s %.1f %s\", m, s.area(), max(Arrays.asList(3, 1, 2)))",
            "                + System.getenv(\"QUERY_STRING\"));",
            "    }",
            "}", "");

    private final JavaCache cache;
    private final boolean enabled;
    private final Map<String, String> env;
    private final Map<Path, Boolean> started = new ConcurrentHashMap<>();
    private final ExecutorService builder = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kiln-javac-archive");
        t.setDaemon(true);
        return t;
    });

    /** @param enabled the java-startup-cache option, which covers javac's start too */
    JavacArchives(JavaCache cache, boolean enabled, Map<String, String> env) {
        this.cache = cache;
        this.enabled = enabled;
        this.env = Map.copyOf(env);
    }

    /** The javac options of a compile with this JDK: its archive once built (dynamic CDS: JDK 13+). */
    List<String> options(Jdk jdk) {
        Path file = archive(jdk);
        return enabled && jdk.feature() >= 13 && Files.isRegularFile(file) ? List.of("-J-XX:SharedArchiveFile=" + file)
                : List.of();
    }

    /** After a compile with this JDK: builds its javac archive once, in the background, if it has none. */
    void afterCompile(Jdk jdk) {
        Path file = archive(jdk);
        boolean missing = enabled && jdk.feature() >= 13 && !Files.isRegularFile(file);
        if (missing && started.putIfAbsent(file, Boolean.TRUE) == null) {
            builder.execute(() -> build(jdk, file));
        }
    }

    private Path archive(Jdk jdk) {
        return cache.root().resolve("javac-" + JavaCache.sha256(jdk.javac() + "\n" + jdk.version()).substring(0, 16)
                + ".jsa");
    }

    /** The file beside an archive naming the javac and version it was made of: prune tells when that JDK is gone. */
    static Path owner(Path archive) {
        String name = archive.getFileName().toString();
        return archive.resolveSibling(name.substring(0, name.length() - ".jsa".length()) + ".javac");
    }

    private void build(Jdk jdk, Path file) {
        Path work = null;
        try {
            work = Files.createTempDirectory(cache.root(), ".javac-");
            Path probe = Files.writeString(work.resolve("Probe.java"), PROBE);
            Path tmp = work.resolve("javac.jsa");
            ProcessBuilder pb = new ProcessBuilder(jdk.javac().toString(), "-J-XX:ArchiveClassesAtExit=" + tmp,
                    Javac.FAST_START.get(0), Javac.FAST_START.get(1), "-proc:none", "-d",
                    work.resolve("out").toString(),
                    probe.toString()).directory(work.toFile()).redirectInput(new File("/dev/null"))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.environment().clear();
            pb.environment().putAll(env);
            Process p = pb.start();
            boolean exited;
            try {
                exited = p.waitFor(2, TimeUnit.MINUTES);
            } finally {
                p.destroyForcibly(); // a no-op once it exited; Kiln stopping or a hung javac otherwise
            }
            if (exited && p.exitValue() == 0 && Files.isRegularFile(tmp)) {
                Files.setPosixFilePermissions(tmp, JavaCache.fileModeIn(file.getParent()));
                Path owner = work.resolve("javac.owner");
                Files.writeString(owner, jdk.javac() + "\n" + jdk.version() + "\n");
                Files.move(owner, owner(file), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                LOG.info("built javac's class archive {} for JDK {}: compiles start faster from now on", file,
                        jdk.version());
                return;
            }
            LOG.info("cannot build a class archive of javac {} ({}); compiles run without one", jdk.javac(),
                    exited ? "exit status " + p.exitValue() : "it did not finish within 2 minutes");
        } catch (IOException e) {
            LOG.info("cannot build a class archive of javac {}: {}; compiles run without one", jdk.javac(),
                    e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                if (work != null) {
                    JavaCache.removeTree(work);
                }
            } catch (IOException e) {
                // a leftover starts with '.': prune removes it
            }
        }
    }

    @Override
    public void close() {
        builder.shutdownNow();
    }
}
