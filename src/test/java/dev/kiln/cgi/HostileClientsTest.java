package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.run.RunLimiter;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.Poll;

/**
 * 500 clients of each hostile kind at once against Kiln's defaults: bodies promised and never sent, chunked
 * uploads trickling a byte at a time, and clients that never read a 1 MB answer. Meanwhile a normal request
 * still answers in under a second, and never with 503 while a slot is free; afterwards nothing is left held.
 */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileClientsTest {
    private static final int EACH = 500;
    private static final long WINDOW_MILLIS = 8_000;
    /** Clients of each kind opened at once: their 2 x 25 scripts run within queue-timeout even on a loaded machine. */
    private static final int BATCH = 25;
    /**
     * What this test itself can put on the run queue: up to max-concurrent scripts (8 by default) and a few
     * threads of Kiln's and of its own client. A 1-minute load average above that plus the cores means other
     * work on the machine had the CPUs.
     */
    private static final double OWN_LOAD = 10;

    @Test
    void fiveHundredOfEachKindDoNotStarveNormalRequests(@TempDir Path dir) throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(dir).option("access-log", "false")
                .option("body-timeout", "10s").start()) {
            kiln.script("quick.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nquick\\n'\n");
            kiln.script("big.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nhead -c 1000000 /dev/zero\n");
            List<Socket> idle = new ArrayList<>();
            List<Socket> trickling = new ArrayList<>();
            List<Socket> deaf = new ArrayList<>();
            Map<String, Integer> normal = new TreeMap<>();
            List<Long> millis = new ArrayList<>();
            try {
                // ramped no faster than the scripts they start can run: what is measured is slow clients, not
                // a machine with two cores running out of CPU for 1,000 scripts at once
                RunLimiter limiter = kiln.kiln().host().settings().limiter();
                long started = System.nanoTime();
                // the client's and Kiln's first request are the test's own warm-up (class loading, the exec
                // fork-server's start: 0.8-2.8 s measured at load 20-30), not part of the attack
                assertThat(kiln.get("/cgi-bin/quick.sh").body()).isEqualTo("quick\n");
                for (int batch = 0; batch < EACH / BATCH; batch++) {
                    Poll.withinMillis(10_000).until("the batch's scripts ran", () -> limiter.waiting() == 0
                            && limiter.running() < limiter.maxRunning());
                    for (int i = 0; i < BATCH; i++) {
                        idle.add(open(kiln, 0, "POST /cgi-bin/quick.sh HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
                        trickling.add(open(kiln, 0, "POST /cgi-bin/quick.sh HTTP/1.1\r\nHost: x\r\n"
                                + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n"));
                        deaf.add(open(kiln, 2048, "GET /cgi-bin/big.sh HTTP/1.1\r\nHost: x\r\n\r\n"));
                    }
                }
                // every script of the attack done: else the first normal requests share the CPUs with the last
                // batch's (0.8-2 s measured at load 20-30), which is capacity, not slow clients
                Poll.withinMillis(10_000).until("the attack's scripts ran", () -> limiter.waiting() == 0
                        && limiter.running() == 0);
                long ramped = System.nanoTime();
                String loadBefore = loadAverage();
                long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WINDOW_MILLIS);
                while (System.nanoTime() < end) {
                    for (Socket s : trickling) {
                        trickle(s);
                    }
                    timed(kiln, normal, millis);
                    Thread.sleep(200);
                }
                String loadAfter = loadAverage();
                long rampMillis = TimeUnit.NANOSECONDS.toMillis(ramped - started);
                Map<String, Integer> idleAnswers = heads(idle);
                List<Long> sorted = millis.stream().sorted().toList();
                long max = sorted.get(sorted.size() - 1);
                System.out.printf("hostile clients: %d idle bodies %s, %d trickling uploads, %d deaf readers; "
                                + "%d normal requests %s, max %d ms, p99 %d ms, p90 %d ms, in order %s; Kiln threads %d; "
                                + "ramp %d ms; load average %s -> %s on %d cores%n", EACH, idleAnswers, EACH, EACH,
                        millis.size(), normal, max, sorted.get(sorted.size() * 99 / 100),
                        sorted.get(sorted.size() * 9 / 10), millis, kilnThreads(), rampMillis, loadBefore, loadAfter,
                        Runtime.getRuntime().availableProcessors());
                assertThat(normal).as("normal requests during the attack").containsOnlyKeys("200");
                // Every normal request within 1 s, the target; a starved server shows as 10 s and more, or
                // 503. No allowance: with the warm-up and the attack's scripts done before the window (the two
                // causes of the slow tail), the slowest took 45-94 ms at load averages 11-31 on 2 cores.
                assertThat(max).as("every normal request within 1 s (load average %s): %s", loadAfter, sorted)
                        .isLessThan(1000);
                double load = Double.parseDouble(loadAfter.split(" ")[0]);
                boolean shared = load > OWN_LOAD + Runtime.getRuntime().availableProcessors();
                // each idle-body client is answered; on a shared machine some of their scripts wait out queue-timeout
                // (10 s) for one of the 8 slots while all are busy: 503 then is capacity, as it should be
                assertThat(idleAnswers.getOrDefault("200", 0) + (shared ? idleAnswers.getOrDefault("503", 0) : 0))
                        .as("idle-body clients get their answers %s", idleAnswers).isGreaterThan(shared ? EACH - 1 : EACH * 9 / 10);
            } finally {
                closeAll(idle);
                closeAll(trickling);
                closeAll(deaf);
            }
            Poll.withinMillis(5000).until("no slot held afterwards", () -> kiln.status().path("scriptsRunning").asLong(),
                    n -> n == 0);
            assertThat(kiln.get("/cgi-bin/quick.sh").body()).isEqualTo("quick\n");
        }
    }

    private static Socket open(KilnTestServer kiln, int receiveBuffer, String request) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.connect(new InetSocketAddress("127.0.0.1", kiln.port()), 5000);
        s.setSoTimeout(2000);
        s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    private static void trickle(Socket s) {
        try {
            s.getOutputStream().write("1\r\nx\r\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException cut) {
            // the server hung up on it: what a trickling client should get
        }
    }

    private static void timed(KilnTestServer kiln, Map<String, Integer> statuses, List<Long> millis) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> r = kiln.get("/cgi-bin/quick.sh");
        millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        statuses.merge(Integer.toString(r.statusCode()), 1, Integer::sum);
    }

    /** The status of each idle-body client's answer, counted; "none" when nothing came within 2 s. */
    private static Map<String, Integer> heads(List<Socket> sockets) {
        Map<String, Integer> counts = new ConcurrentHashMap<>();
        for (Socket s : sockets) {
            String status;
            try {
                InputStream in = s.getInputStream();
                byte[] head = in.readNBytes(12);
                status = head.length == 12 ? new String(head, 9, 3, StandardCharsets.US_ASCII) : "closed";
            } catch (IOException e) {
                status = "none";
            }
            counts.merge(status, 1, Integer::sum);
        }
        return new TreeMap<>(counts);
    }

    private static String loadAverage() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).trim();
    }

    private static long kilnThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("kiln-")).count();
    }

    private static void closeAll(List<Socket> sockets) {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
