package dev.kiln.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.ProcScan;

/**
 * The script cgroups of a Kiln that died with its guard (both killed at once, as a container stop does) are
 * cleaned up by the next Kiln: what is left in them is killed and the folders are removed.
 */
class StaleCgroupsTest {
    @TempDir
    Path temp;

    @Test
    void aNewKilnKillsAndRemovesTheCgroupsOfAKilnThatIsGone() throws Exception {
        Path parent;
        try (KilnTestServer first = KilnTestServer.builder(temp.resolve("first")).start()) {
            Optional<Path> own = ownCgroupFolder();
            assumeThat(own).as("this machine delegates a pids cgroup to Kiln").isPresent();
            parent = own.get().getParent();
        }
        Process gone = new ProcessBuilder("/bin/true").start();
        gone.waitFor();
        Path stale = Files.createDirectory(parent.resolve("kiln-" + gone.pid() + "-1"));
        Path request = Files.createDirectory(stale.resolve("r7"));
        String marker = "300." + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
        Process left = new ProcessBuilder("/bin/sh", "-c", "echo $$ > \"$0\" && exec sleep " + marker,
                request.resolve("cgroup.procs").toString()).start();
        try {
            ProcScan.awaitRunning(marker, 1, Duration.ofSeconds(5));
            try (KilnTestServer second = KilnTestServer.builder(temp.resolve("second")).start()) {
                assertThat(stale).as("removed at start").doesNotExist();
                ProcScan.awaitGone(marker, Duration.ofSeconds(3));
                second.script("hello.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello\\n'\n");
                assertThat(second.get("/cgi-bin/hello.sh").body()).isEqualTo("hello\n");
            }
        } finally {
            left.destroyForcibly();
        }
    }

    /** The folder of the first Kiln's request cgroups, {@code kiln-<this JVM's pid>-N}, beside this JVM's cgroup. */
    private static Optional<Path> ownCgroupFolder() throws Exception {
        String prefix = "kiln-" + ProcessHandle.current().pid() + "-";
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            Path cgroup = f[1].isEmpty() ? Path.of("/sys/fs/cgroup" + f[2]) : Path.of("/sys/fs/cgroup/pids" + f[2]);
            if (f.length == 3 && (f[1].isEmpty() || f[1].equals("pids")) && Files.isDirectory(cgroup)) {
                try (Stream<Path> dirs = Files.list(cgroup)) {
                    Optional<Path> own = dirs.filter(d -> d.getFileName().toString().startsWith(prefix)).findFirst();
                    if (own.isPresent()) {
                        return own;
                    }
                }
            }
        }
        return Optional.empty();
    }
}
