package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.Poll;
import dev.kiln.testing.ProcScan;

/**
 * 20,000 mixed requests from 64 connections against one Kiln (the default run mode): fast, slow, streaming,
 * failing before and after their headers, and chunked uploads; every answer is checked, and afterwards no
 * script process, busy thread, descriptor or spool file is left over.
 */
@Timeout(value = 600, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // ~40 s on a quiet machine; a shared one is slow, not wrong
class MixedLoadTest {
    /** 20,000; a smaller figure for a quick look: {@code -Dkiln.load.requests=2000}. */
    private static final int REQUESTS = Integer.getInteger("kiln.load.requests", 20_000);
    private static final int CONNECTIONS = 64;
    /** Where a pool thread waits for work (the JDK's pools, Jetty's, its acceptor). */
    private static final Set<String> IDLE = Set.of("getTask", "idleJobPoll", "reservedWait", "accept");
    private static final String MIX = "#!" + KilnTestServer.DEBIAN_PYTHON + "\n"
            + "import hashlib, os, sys, time\n"
            + "kind = os.environ['QUERY_STRING']\n"
            + "out = sys.stdout\n"
            + "if kind == 'fail':\n"
            + "    sys.exit(3)\n"
            + "if kind == 'bad':\n"
            + "    out.write('not a header\\n\\n'); sys.exit(0)\n"
            + "if kind == 'upload':\n"
            + "    data = sys.stdin.buffer.read()\n"
            + "    out.write('Content-Type: text/plain\\n\\n%s %d %s' % (os.environ['CONTENT_LENGTH'], len(data),"
            + " hashlib.sha256(data).hexdigest())); sys.exit(0)\n"
            + "out.write('Content-Type: text/plain\\n\\n')\n"
            + "if kind == 'slow':\n"
            + "    time.sleep(0.05)\n"
            + "if kind == 'stream':\n"
            + "    for i in range(5):\n"
            + "        out.write('part %d\\n' % i); out.flush()\n"
            + "out.write(kind + ' done\\n')\n";

    @Test
    void twentyThousandMixedRequestsAllAnsweredNothingLeaked(@TempDir Path dir) throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(dir).option("access-log", "false")
                .option("max-concurrent", "32").option("max-queued", "200").start()) {
            kiln.script("mix.py", MIX);
            assertThat(kiln.get("/cgi-bin/mix.py?fast").body()).isEqualTo("fast done\n"); // fork-server warm
            long pipesBefore = descriptors(false);
            long socketsBefore = descriptors(true);
            List<String> helpersBefore = ProcScan.descendants();
            Map<String, AtomicInteger> kinds = new ConcurrentHashMap<>();
            List<String> wrong = new ArrayList<>();
            long t0 = System.nanoTime();
            ExecutorService clients = Executors.newFixedThreadPool(CONNECTIONS);
            try {
                List<Future<?>> all = new ArrayList<>();
                for (int c = 0; c < CONNECTIONS; c++) {
                    int connection = c;
                    all.add(clients.submit(() -> {
                        SplittableRandom random = new SplittableRandom(connection);
                        for (int i = connection; i < REQUESTS; i += CONNECTIONS) {
                            String kind = pick(random.nextInt(100));
                            kinds.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
                            try {
                                String problem = check(kiln, kind, random);
                                if (problem != null) {
                                    synchronized (wrong) {
                                        wrong.add(kind + ": " + problem);
                                    }
                                }
                            } catch (IOException | InterruptedException e) {
                                synchronized (wrong) {
                                    wrong.add(kind + ": " + e);
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : all) {
                    f.get(590, TimeUnit.SECONDS);
                }
            } finally {
                clients.shutdownNow();
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.printf("mixed load: %d requests from %d connections in %d ms (%.0f req/s): %s%n", REQUESTS,
                    CONNECTIONS, millis, REQUESTS * 1000.0 / millis, kinds);
            assertThat(wrong).as("wrong answers").isEmpty();

            Poll.withinMillis(5000).until("no script running", () -> kiln.status().path("scriptsRunning").asLong(),
                    n -> n == 0);
            Poll.withinMillis(5000).until("no script process left", ProcScan::descendants,
                    now -> now.size() <= helpersBefore.size());
            assertThat(ProcScan.zombieChildren()).isEmpty();
            Poll.withinMillis(5000).until("no Kiln thread busy", MixedLoadTest::busyKilnThreads, List::isEmpty);
            // the client's 64 keep-alive connections stay open, both ends in this JVM: sockets may be up by
            // twice that, pipes and files not at all (a leak of one per request would be thousands)
            Poll.withinMillis(5000).until("pipes and files back to where they were",
                    () -> descriptors(false), n -> n <= pipesBefore + 8);
            assertThat(descriptors(true)).as("sockets").isLessThanOrEqualTo(socketsBefore + 2 * CONNECTIONS + 8);
            assertThat(spoolFilesSince(t0)).as("spool files left").isEmpty();
        }
    }

    private static String pick(int roll) {
        if (roll < 55) {
            return "fast";
        }
        if (roll < 65) {
            return "slow";
        }
        if (roll < 77) {
            return "stream";
        }
        if (roll < 83) {
            return "fail";
        }
        if (roll < 88) {
            return "bad";
        }
        return "upload";
    }

    /** Sends one request of {@code kind}; returns what was wrong with its answer, or null. */
    private static String check(KilnTestServer kiln, String kind, SplittableRandom random)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(kiln.uri("/cgi-bin/mix.py?" + kind))
                .timeout(Duration.ofSeconds(60));
        String expected;
        int status = 200;
        switch (kind) {
            case "fail" -> {
                status = 500;
                expected = null;
            }
            case "bad" -> {
                status = 502;
                expected = null;
            }
            case "upload" -> {
                byte[] data = new byte[1 + random.nextInt(64 * 1024)];
                random.nextBytes(data);
                request.POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(data)));
                expected = data.length + " " + data.length + " " + sha256(data);
            }
            case "stream" -> expected = "part 0\npart 1\npart 2\npart 3\npart 4\nstream done\n";
            default -> expected = kind + " done\n";
        }
        HttpResponse<String> r = kiln.send(request.build());
        if (r.statusCode() != status) {
            return "status " + r.statusCode() + ": " + r.body();
        }
        if (expected != null && !expected.equals(r.body())) {
            return "body " + r.body();
        }
        if (expected == null && !r.body().contains("<h1>" + status)) {
            return "error page " + r.body();
        }
        return null;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Kiln threads doing anything but waiting in their pool for work. */
    private static List<String> busyKilnThreads() {
        List<String> busy = new ArrayList<>();
        Thread.getAllStackTraces().forEach((t, stack) -> {
            if (!t.getName().startsWith("kiln-pump") && !t.getName().startsWith("kiln-http")) {
                return;
            }
            boolean idle = Stream.of(stack).anyMatch(f -> IDLE.contains(f.getMethodName())
                    || f.getClassName().contains("ManagedSelector") || f.getClassName().contains("ReservedThread"));
            if (!idle) {
                busy.add(t.getName() + " " + Stream.of(stack).limit(6).toList());
            }
        });
        return busy;
    }

    /** This JVM's open sockets, or its other descriptors (pipes, files). */
    private static long descriptors(boolean sockets) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("socket:") == sockets;
                } catch (IOException closedMeanwhile) {
                    return false;
                }
            }).count();
        }
    }

    /** Spool files written since {@code nanos} (other Kilns on this machine share the folder). */
    private static List<Path> spoolFilesSince(long nanos) throws IOException {
        Path spool = Path.of(System.getProperty("java.io.tmpdir"), "kiln-bodies");
        if (!Files.isDirectory(spool)) {
            return List.of();
        }
        long since = System.currentTimeMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos) - 1000;
        try (Stream<Path> files = Files.list(spool)) {
            return files.filter(f -> {
                try {
                    return Files.getLastModifiedTime(f).toMillis() >= since;
                } catch (IOException deletedMeanwhile) {
                    return false;
                }
            }).toList();
        }
    }
}
