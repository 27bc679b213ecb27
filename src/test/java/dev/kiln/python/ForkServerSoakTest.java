package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.Poll;
import dev.kiln.testing.ProcScan;
import dev.kiln.testing.RunModes;

/** 10,000 fork-server requests of every outcome leave no descriptor, child or zombie in Kiln or the fork-server. */
class ForkServerSoakTest {
    private static final int REQUESTS = 10_000;
    private static final int CALLERS = 4;

    @TempDir
    Path temp;

    @Test
    void tenThousandRequestsLeaveNothingBehind() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(RunModes.FORKSERVER).start()) {
            kiln.script("ok.py", "print('Content-Type: text/plain\\n')\nprint('ok')\n");
            kiln.script("echo.py", "import sys\nd = sys.stdin.buffer.read()\n"
                    + "print('Content-Type: text/plain\\n')\nprint(len(d))\n");
            kiln.script("fail.py", "import sys\nprint('broken', file=sys.stderr)\nsys.exit(3)\n");
            kiln.script("bg.py", "import subprocess\nsubprocess.Popen(['sleep', '300.7531'])\n"
                    + "print('Content-Type: text/plain\\n')\nprint('bg')\n");
            for (int i = 0; i < 40; i++) {
                request(kiln, i);
            }
            long server = kiln.status().path("forkServers").get(0).path("pid").asLong();
            int kilnFds = ProcScan.openFdsExceptTcp();
            int serverFds = ProcScan.idleFds(server);
            ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < CALLERS; c++) {
                    int first = c;
                    done.add(callers.submit(() -> {
                        for (int i = first; i < REQUESTS; i += CALLERS) {
                            request(kiln, i);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                callers.shutdownNow();
            }
            ProcScan.awaitGone("300.7531", Duration.ofSeconds(5));
            assertThat(kiln.status().path("forkServers").get(0).path("pid").asLong()).as("same fork-server")
                    .isEqualTo(server);
            assertThat(kiln.status().path("forkServers").get(0).path("childrenServed").asLong())
                    .isGreaterThanOrEqualTo(REQUESTS);
            Poll.withinMillis(5000).until("Kiln's descriptors (but TCP) back near " + kilnFds, ProcScan::openFdsExceptTcp,
                    n -> n <= kilnFds + 4);
            Poll.withinMillis(5000).until("the fork-server's descriptors back to " + serverFds, () -> ProcScan.openFds(server),
                    n -> n <= serverFds);
            Poll.withinMillis(5000).until("no children or zombies of the fork-server", () -> children(server),
                    List::isEmpty);
            Poll.withinMillis(3000).until("no zombie children of the JVM", ProcScan::zombieChildren, List::isEmpty);
            assertThat(kiln.status().path("scriptsRunning").asLong()).isZero();
        }
    }

    private static void request(KilnTestServer kiln, int i) throws Exception {
        switch (i % 10) {
            case 1 -> assertThat(kiln.post("/cgi-bin/echo.py", "text/plain", "x".repeat(i % 5000)).body().strip())
                    .isEqualTo(Integer.toString(i % 5000));
            case 2 -> assertThat(kiln.get("/cgi-bin/fail.py").statusCode()).isEqualTo(500);
            case 3 -> assertThat(kiln.get("/cgi-bin/bg.py").body().strip()).isEqualTo("bg");
            default -> assertThat(kiln.get("/cgi-bin/ok.py").body().strip()).isEqualTo("ok");
        }
    }

    /** Processes whose parent is {@code pid}, zombies included. */
    private static List<String> children(long pid) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (f[1].equals(Long.toString(pid))) {
                        out.add(p.getFileName() + " " + f[0]);
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }
}
