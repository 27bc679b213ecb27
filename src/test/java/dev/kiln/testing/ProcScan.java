package dev.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What runs on this machine, read from {@code /proc}: processes found by a marker in their command line (a
 * script's file name, a {@code sleep 300.NNNN} argument unique to one test), zombie children of this JVM and
 * its open descriptors. Proves that Kiln's children are really gone, not merely forgotten.
 */
public final class ProcScan {
    private static final Path PROC = Path.of("/proc");

    private ProcScan() {
    }

    /** Every process whose command line contains {@code marker}, as "pid: cmdline". */
    public static List<String> withMarker(String marker) {
        List<String> found = new ArrayList<>();
        for (Path p : pids()) {
            String cmdline = read(p.resolve("cmdline")).replace('\0', ' ').strip();
            if (cmdline.contains(marker)) {
                found.add(p.getFileName() + ": " + cmdline);
            }
        }
        return found;
    }

    /** Waits until at least {@code count} processes carry the marker; returns them. */
    public static List<String> awaitRunning(String marker, int count, Duration timeout) throws Exception {
        return Poll.within(timeout).until(count + " process(es) with " + marker + " running",
                () -> withMarker(marker), found -> found.size() >= count);
    }

    /** Waits until no process carries the marker; fails naming those still running. */
    public static void awaitGone(String marker, Duration timeout) throws Exception {
        List<String> left = Poll.within(timeout).latest(() -> withMarker(marker), List::isEmpty);
        assertThat(left).as("processes with %s still running after %d ms", marker, timeout.toMillis()).isEmpty();
    }

    /** Whether process {@code pid} is still there with {@code marker} in its command line (pids are reused). */
    public static boolean alive(String pid, String marker) {
        return read(PROC.resolve(pid).resolve("cmdline")).contains(marker);
    }

    /** Children of this JVM that have exited but were never reaped, as their /proc stat lines. */
    public static List<String> zombieChildren() {
        String me = Long.toString(ProcessHandle.current().pid());
        List<String> found = new ArrayList<>();
        for (Path p : pids()) {
            String stat = read(p.resolve("stat"));
            int end = stat.lastIndexOf(')');
            if (end < 0) {
                continue; // gone while being read
            }
            String[] rest = stat.substring(end + 2).split(" ");
            if (rest[0].equals("Z") && rest[1].equals(me)) {
                found.add(stat.strip());
            }
        }
        return found;
    }

    /** Every process descended from this JVM (children, theirs, ...), as their /proc stat lines. */
    public static List<String> descendants() {
        Map<String, String> parentOf = new HashMap<>();
        Map<String, String> stats = new HashMap<>();
        for (Path p : pids()) {
            String stat = read(p.resolve("stat"));
            int end = stat.lastIndexOf(')');
            if (end < 0) {
                continue;
            }
            String pid = p.getFileName().toString();
            parentOf.put(pid, stat.substring(end + 2).split(" ")[1]);
            stats.put(pid, stat.strip());
        }
        String me = Long.toString(ProcessHandle.current().pid());
        List<String> found = new ArrayList<>();
        for (String pid : parentOf.keySet()) {
            for (String up = parentOf.get(pid); up != null && !up.equals("0"); up = parentOf.get(up)) {
                if (up.equals(me)) {
                    found.add(stats.get(pid));
                    break;
                }
            }
        }
        return found;
    }

    /** How many descriptors this JVM holds open. */
    public static int openFds() throws IOException {
        try (Stream<Path> fds = Files.list(PROC.resolve("self/fd"))) {
            return (int) fds.count();
        }
    }

    /** How many descriptors process {@code pid} holds open. */
    public static int openFds(long pid) throws IOException {
        try (Stream<Path> fds = Files.list(PROC.resolve(Long.toString(pid)).resolve("fd"))) {
            return (int) fds.count();
        }
    }

    /**
     * The fewest descriptors {@code pid} holds over 20 looks 10 ms apart: an idle fork-server's own, without
     * what it opens for a moment after an exit (its {@code /proc} children list, read while it looks for
     * orphans), which one look may catch.
     */
    public static int idleFds(long pid) throws IOException, InterruptedException {
        int fewest = openFds(pid);
        for (int i = 1; i < 20; i++) {
            Thread.sleep(10);
            fewest = Math.min(fewest, openFds(pid));
        }
        return fewest;
    }

    /**
     * This JVM's open descriptors other than TCP sockets: pipes, files and Unix sockets, what a leak of a
     * script's or a fork-server's plumbing would add. An in-process HTTP client and server also hold
     * keep-alive connections, whose number a loaded machine changes.
     */
    public static int openFdsExceptTcp() throws IOException {
        Set<String> tcp = new HashSet<>();
        for (String table : List.of("tcp", "tcp6")) {
            read(PROC.resolve("self/net").resolve(table)).lines().skip(1)
                    .map(line -> line.trim().split("\\s+")).filter(f -> f.length > 9)
                    .forEach(f -> tcp.add("socket:[" + f[9] + "]"));
        }
        try (Stream<Path> fds = Files.list(PROC.resolve("self/fd"))) {
            return (int) fds.filter(fd -> !tcp.contains(link(fd))).count();
        }
    }

    private static String link(Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString();
        } catch (IOException closedMeanwhile) {
            return "";
        }
    }

    private static List<Path> pids() {
        try (Stream<Path> entries = Files.list(PROC)) {
            return entries.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList();
        } catch (IOException e) {
            throw new AssertionError("cannot list /proc: " + e, e);
        }
    }

    /** A /proc file's text, empty when the process has gone meanwhile. */
    private static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        } catch (IOException gone) {
            return "";
        }
    }
}
