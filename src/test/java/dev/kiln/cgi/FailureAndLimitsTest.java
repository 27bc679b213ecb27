package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;

/**
 * What Kiln does when scripts fail, hang, leak or flood it, over real HTTP against a real Kiln running real
 * {@code /bin/sh}, perl and python3 scripts. Processes are proven gone by scanning {@code /proc/*}/cmdline for
 * marker strings unique to each run (script file names and {@code sleep 300.NNNNNN} arguments).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a broken kill must fail, not hang
class FailureAndLimitsTest {
    static final String PY = KilnTestServer.DEBIAN_PYTHON;
    static final long MAX_BODY = 24L * 1024 * 1024;
    static final Pattern FILE_PATH = Pattern.compile("/(tmp|usr|bin|home|root|work|proc|etc|var|nonexistent)/");

    @TempDir
    static Path temp;
    static KilnTestServer quick;
    static Path marks;

    @BeforeAll
    static void start() throws Exception {
        quick = KilnTestServer.builder(temp.resolve("quick"))
                .option("timeout", "3s")
                .option("idle-timeout", "1s")
                .option("kill-grace", "500ms")
                .option("stderr-timeout", "1s")
                .option("max-header-size", "4k")
                .option("max-stderr-line", "100")
                .option("max-body", "24m")
                .start();
        marks = Files.createDirectories(temp.resolve("marks"));
        quick.script("hello.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello\\n'\n");
    }

    @AfterAll
    static void stop() throws Exception {
        if (quick != null) {
            quick.close();
        }
    }

    // ------------------------------------------------------------------ 1. missing and unstartable scripts

    @Test
    @Order(1)
    void missingScriptIs404AndUnstartableScriptIs500WithTheCauseLogged() throws Exception {
        String t = tag();
        String missing = "/cgi-bin/missing-" + t + ".sh/extra";
        HttpResponse<String> r = quick.get(missing);
        assertThat(r.statusCode()).isEqualTo(404);
        assertShortErrorPage(r, 404, missing);

        String interpreter = "/nonexistent/kiln-interp-" + t;
        quick.script("bad/nointerp-" + t + ".sh", "#!" + interpreter + "\necho 'Content-Type: text/plain'\n");
        String path = "/cgi-bin/bad/nointerp-" + t + ".sh";
        try (LogCapture logs = LogCapture.capture()) {
            r = quick.get(path);
            assertThat(r.statusCode()).isEqualTo(500);
            assertShortErrorPage(r, 500, path);
            List<String> lines = logs.await(3000, path, "500", interpreter);
            assertThat(lines).as(logs.lines().toString()).hasSize(1);
            assertThat(lines.get(0)).matches("(?s)(WARN|ERROR) .*").contains("not an executable file").contains("fix:")
                    .doesNotContain("\n");
        }
    }

    // ------------------------------------------------------------------ 2. stderr

    @Test
    @Order(2)
    void stderrBeforeHeadersIs500WithItsTailLogged() throws Exception {
        String t = tag();
        quick.script("fail/die-" + t + ".pl", "#!/usr/bin/perl\n"
                + "print STDERR \"starting up\\n\";\n"
                + "print STDERR \"fatal-" + t + ": cannot open config\\n\";\n"
                + "exit 3;\n");
        String path = "/cgi-bin/fail/die-" + t + ".pl";
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = quick.get(path);
            assertThat(r.statusCode()).isEqualTo(500);
            assertShortErrorPage(r, 500, path);
            assertThat(r.body()).doesNotContain("fatal-" + t).doesNotContain("cannot open config");
            List<String> lines = logs.await(3000, "WARN [kiln.", path, "500", "fatal-" + t + ": cannot open config");
            assertThat(lines).as(logs.lines().toString()).hasSize(1);
            assertThat(lines.get(0)).contains("starting up").doesNotContain("\n");
        }
    }

    @Test
    @Order(3)
    void eachStderrLineIsItsOwnLogLineUnderTheScriptsLogger() throws Exception {
        String t = tag();
        quick.script("logs/talk-" + t + ".sh", "#!/bin/sh\n"
                + "echo 'alpha-" + t + "' >&2\n"
                + "echo 'beta-" + t + " second line' >&2\n"
                + "printf 'Content-Type: text/plain\\n\\nok\\n'\n");
        String logger = "[kiln.script.logs/talk-" + t + ".sh] ";
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = quick.get("/cgi-bin/logs/talk-" + t + ".sh");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok\n");
            logs.await(3000, logger + "beta-" + t);
            List<String> mine = logs.matching(logger);
            assertThat(mine).extracting(FailureAndLimitsTest::afterLevel)
                    .containsExactly(logger + "alpha-" + t, logger + "beta-" + t + " second line");
        }
    }

    @Test
    @Order(4)
    void anOverlongStderrLineIsCutAtMaxStderrLine() throws Exception {
        String t = tag();
        quick.script("logs/long-" + t + ".py", "#!" + PY + "\n"
                + "import sys\n"
                + "sys.stderr.write('L" + t + "' + 'x' * 5000 + 'END-OF-LONG\\n')\n"
                + "sys.stderr.write('after-" + t + "\\n')\n"
                + "sys.stderr.flush()\n"
                + "print('Content-Type: text/plain\\n\\nok')\n");
        String logger = "[kiln.script.logs/long-" + t + ".py] ";
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = quick.get("/cgi-bin/logs/long-" + t + ".py");
            assertThat(r.statusCode()).isEqualTo(200);
            logs.await(3000, logger + "after-" + t);
            List<String> mine = logs.matching(logger);
            assertThat(mine).as(mine.toString()).hasSize(2);
            String cut = afterLevel(mine.get(0)).substring(logger.length());
            assertThat(cut).startsWith("L" + t + "x".repeat(50)).doesNotContain("END-OF-LONG")
                    .doesNotContain("x".repeat(100));
            assertThat(cut.length()).isLessThan(100 + 60);
            assertThat(afterLevel(mine.get(1))).isEqualTo(logger + "after-" + t);
        }
    }

    // ------------------------------------------------------------------ 3. bad header blocks

    @Test
    @Order(5)
    void malformedOrOversizedHeaderBlockIs502() throws Exception {
        String t = tag();
        quick.script("hdr/bad-" + t + ".sh", "#!/bin/sh\nprintf 'this is not a header\\n\\nbody\\n'\n");
        quick.script("hdr/big-" + t + ".sh", "#!/bin/sh\n"
                + "printf 'Content-Type: text/plain\\nX-Big: '\n"
                + "head -c 10000 /dev/zero | tr '\\000' a\n"
                + "printf '\\n\\nbody\\n'\n"
                + "sleep 300." + t + "\n");
        quick.script("hdr/many-" + t + ".sh", "#!/bin/sh\n"
                + "i=0; while [ $i -lt 400 ]; do echo \"X-Line-$i: some value\"; i=$((i+1)); done\n"
                + "printf '\\nbody\\n'\n");
        try (LogCapture logs = LogCapture.capture()) {
            String bad = "/cgi-bin/hdr/bad-" + t + ".sh";
            HttpResponse<String> r = quick.get(bad);
            assertThat(r.statusCode()).isEqualTo(502);
            assertShortErrorPage(r, 502, bad);
            assertThat(logs.await(3000, bad, "502", "\"this is not a header\"")).hasSize(1);

            String big = "/cgi-bin/hdr/big-" + t + ".sh";
            long t0 = System.nanoTime();
            r = quick.get(big);
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(millisSince(t0)).as("502 at once, not after the script's timeout").isLessThan(2500);
            assertShortErrorPage(r, 502, big);
            assertThat(r.body()).doesNotContain("aaaa");
            assertThat(logs.await(3000, big, "502")).hasSize(1);
            awaitNoProcess("big-" + t, 2000);
            awaitNoProcess("300." + t, 2000);

            String many = "/cgi-bin/hdr/many-" + t + ".sh";
            r = quick.get(many);
            assertThat(r.statusCode()).isEqualTo(502);
            assertShortErrorPage(r, 502, many);
        }
    }

    // ------------------------------------------------------------------ 4. timeouts

    @Test
    @Order(6)
    void idleScriptIs504AndItsWholeProcessGroupIsKilled() throws Exception {
        String t = tag();
        String child = "300.1" + t;
        String self = "300.2" + t;
        quick.script("slow/idle-" + t + ".sh", "#!/bin/sh\nsleep " + child + " &\nsleep " + self + "\n");
        String path = "/cgi-bin/slow/idle-" + t + ".sh";
        try (LogCapture logs = LogCapture.capture()) {
            long t0 = System.nanoTime();
            CompletableFuture<HttpResponse<String>> f = quick.client().sendAsync(
                    get(path), HttpResponse.BodyHandlers.ofString());
            awaitProcess(child, 2000);
            awaitProcess(self, 2000);
            HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
            long took = millisSince(t0);
            assertThat(r.statusCode()).isEqualTo(504);
            assertShortErrorPage(r, 504, path);
            assertThat(took).as("idle-timeout 1s, well before timeout 3s").isBetween(900L, 2800L);
            awaitNoProcess(child, 2000);
            awaitNoProcess(self, 2000);
            awaitNoProcess("idle-" + t, 2000);
            assertThat(logs.await(2000, path, "504")).hasSize(1);
        }
    }

    @Test
    @Order(7)
    void scriptRunningPastTheTotalTimeoutIsKilledEvenWhileProducingOutput() throws Exception {
        String t = tag();
        quick.script("slow/drip-" + t + ".sh", "#!/bin/sh\n"
                + "printf 'Content-Type: text/plain\\n\\n'\n"
                + "while :; do echo tick; sleep 0.3; done\n");
        String path = "/cgi-bin/slow/drip-" + t + ".sh";
        long t0 = System.nanoTime();
        HttpResponse<InputStream> r = quick.client().send(get(path), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        awaitProcess("drip-" + t, 1000);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        boolean cutOff = false;
        try (InputStream in = r.body()) {
            in.transferTo(got);
        } catch (IOException e) {
            cutOff = true;
        }
        long took = millisSince(t0);
        assertThat(got.toString(StandardCharsets.US_ASCII)).startsWith("tick\ntick\n");
        assertThat(took).as("killed at timeout 3s").isBetween(2700L, 6000L);
        assertThat(cutOff).as("a response cut by the timeout must not look complete to the client").isTrue();
        awaitNoProcess("drip-" + t, 2000);
    }

    @Test
    @Order(8)
    void scriptIgnoringSigtermIsKilledAfterKillGrace() throws Exception {
        String t = tag();
        String child = "300.3" + t;
        String self = "300.4" + t;
        quick.script("slow/stubborn-" + t + ".sh", "#!/bin/sh\n"
                + "trap '' TERM\n"
                + "sleep " + child + " &\n"
                + "while :; do sleep " + self + "; done\n");
        String path = "/cgi-bin/slow/stubborn-" + t + ".sh";
        long t0 = System.nanoTime();
        CompletableFuture<HttpResponse<String>> f = quick.client().sendAsync(get(path),
                HttpResponse.BodyHandlers.ofString());
        awaitProcess(child, 2000);
        awaitProcess(self, 2000);
        HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
        long took = millisSince(t0);
        assertThat(r.statusCode()).isEqualTo(504);
        // SIGTERM at idle-timeout (1s) is ignored; only SIGKILL after kill-grace (500ms) ends it
        assertThat(took).isBetween(1400L, 2900L);
        awaitNoProcess(child, 2000);
        awaitNoProcess(self, 2000);
        awaitNoProcess("stubborn-" + t, 2000);
    }

    @Test
    @Order(9)
    void stoppedScriptGetsSigtermFirst() throws Exception {
        String t = tag();
        Path note = marks.resolve("term-" + t);
        quick.script("slow/polite-" + t + ".sh", "#!/bin/sh\n"
                + "trap 'echo got-term > " + note + "; exit 0' TERM\n"
                + "sleep 300." + t + " &\n"
                + "wait\n");
        HttpResponse<String> r = quick.get("/cgi-bin/slow/polite-" + t + ".sh");
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(Files.readString(note)).isEqualTo("got-term\n");
        awaitNoProcess("300." + t, 2000);
    }

    // ------------------------------------------------------------------ 5. client going away

    @Test
    @Order(10)
    void clientGoingAwayStopsTheScript(@TempDir Path dir) throws Exception {
        String t = tag();
        try (KilnTestServer roomy = KilnTestServer.builder(dir).option("timeout", "60s")
                .option("idle-timeout", "30s").option("kill-grace", "500ms").start()) {
            roomy.script("chatty-" + t + ".sh", "#!/bin/sh\n"
                    + "printf 'Content-Type: text/plain\\n\\n'\n"
                    + "i=0\n"
                    + "while [ $i -lt 300 ]; do echo \"line $i of a long answer\"; sleep 0.1; i=$((i+1)); done\n");
            try (Socket s = new Socket("127.0.0.1", roomy.port())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(("GET /cgi-bin/chatty-" + t + ".sh HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                InputStream in = s.getInputStream();
                StringBuilder seen = new StringBuilder();
                byte[] buf = new byte[256];
                while (!seen.toString().contains("line 2 ")) {
                    int n = in.read(buf);
                    assertThat(n).as("response so far: " + seen).isPositive();
                    seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                }
                assertThat(seen.toString()).startsWith("HTTP/1.1 200");
                assertThat(processes("chatty-" + t)).isNotEmpty();
            }
            awaitNoProcess("chatty-" + t, 5000);
            roomy.script("hello.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello\\n'\n");
            assertThat(roomy.get("/cgi-bin/hello.sh").body()).isEqualTo("hello\n");
        }
    }

    // ------------------------------------------------------------------ 6. orphans

    @Test
    @Order(11)
    void backgroundChildrenDoNotOutliveTheScript() throws Exception {
        String t = tag();
        Path pidFile = marks.resolve("orphan-" + t);
        // detached from every pipe: nothing but the group kill on exit can end it
        quick.script("orphan/detached-" + t + ".sh", "#!/bin/sh\n"
                + "sleep 300.5" + t + " >/dev/null 2>&1 </dev/null &\n"
                + "echo $! > " + pidFile + "\n"
                + "printf 'Content-Type: text/plain\\n\\ndone-" + t + "\\n'\n");
        // still holding stdout: the response ends only once the group is killed on exit
        quick.script("orphan/holding-" + t + ".sh", "#!/bin/sh\n"
                + "sleep 300.6" + t + " &\n"
                + "printf 'Content-Type: text/plain\\n\\nheld-" + t + "\\n'\n");

        HttpResponse<String> r = quick.get("/cgi-bin/orphan/detached-" + t + ".sh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("done-" + t + "\n");
        String pid = Files.readString(pidFile).strip();
        assertThat(pid).matches("\\d+");
        poll("background sleep " + pid + " gone", 3000, () -> {
            try {
                return !new String(Files.readAllBytes(Path.of("/proc", pid, "cmdline")), StandardCharsets.ISO_8859_1)
                        .contains("300.5" + t);
            } catch (IOException e) {
                return true;
            }
        });
        awaitNoProcess("300.5" + t, 1000);

        long t0 = System.nanoTime();
        r = quick.get("/cgi-bin/orphan/holding-" + t + ".sh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("held-" + t + "\n");
        assertThat(millisSince(t0)).as("well before the idle timeout").isLessThan(900);
        awaitNoProcess("300.6" + t, 2000);
    }

    // ------------------------------------------------------------------ 7. leaks

    @Test
    @Order(12)
    void hundredsOfMixedRequestsLeakNoDescriptorsNorZombies() throws Exception {
        String t = tag();
        quick.script("mix/ok-" + t + ".sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nfine\\n'\n");
        quick.script("mix/fail-" + t + ".pl", "#!/usr/bin/perl\nprint STDERR \"broken\\n\"; exit 1;\n");
        quick.script("mix/bad-" + t + ".sh", "#!/bin/sh\nprintf 'garbage\\n\\n'\n");
        quick.script("mix/idle-" + t + ".sh", "#!/bin/sh\nsleep 300." + t + " &\nsleep 300." + t + "\n");
        quick.script("mix/echo-" + t + ".py", "#!" + PY + "\nimport sys\n"
                + "d = sys.stdin.buffer.read()\nprint('Content-Type: text/plain\\n')\nprint(len(d))\n");
        quick.script("mix/bg-" + t + ".sh", "#!/bin/sh\nsleep 300." + t + " &\n"
                + "printf 'Content-Type: text/plain\\n\\nbg\\n'\n");
        // warm up every kind once, so pools, the signaller and lazily created resources exist
        for (int i = 0; i < 20; i++) {
            mixed(t, i);
        }
        int fdsBefore = openFds();
        long childrenBefore = ProcessHandle.current().children().count();
        for (int i = 0; i < 100; i++) {
            mixed(t, i);
        }
        awaitNoProcess("300." + t, 3000);
        awaitNoProcess("-" + t + ".", 3000);
        poll("no zombie children of the JVM", 3000, () -> zombieChildren().isEmpty());
        poll("descriptors back near " + fdsBefore, 5000, () -> openFds() <= fdsBefore + 4);
        assertThat(ProcessHandle.current().children().count()).isLessThanOrEqualTo(childrenBefore);
        assertThat(quick.kiln().host().settings().limiter().running()).isZero();
    }

    private void mixed(String t, int i) throws Exception {
        switch (i % 20) {
            case 1, 5, 9, 13 -> assertThat(quick.get("/cgi-bin/mix/missing-" + t + ".sh").statusCode())
                    .isEqualTo(404);
            case 2, 6, 10, 14 -> assertThat(quick.get("/cgi-bin/mix/fail-" + t + ".pl").statusCode())
                    .isEqualTo(500);
            case 3, 11 -> assertThat(quick.get("/cgi-bin/mix/bad-" + t + ".sh").statusCode()).isEqualTo(502);
            case 4, 12 -> {
                HttpResponse<String> r = quick.post("/cgi-bin/mix/echo-" + t + ".py", "text/plain",
                        "x".repeat(1000 + i));
                assertThat(r.body().strip()).isEqualTo(Integer.toString(1000 + i));
            }
            case 7, 15 -> {
                HttpResponse<String> r = quick.send(HttpRequest.newBuilder(quick.uri("/cgi-bin/mix/echo-" + t + ".py"))
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofInputStream(
                                () -> new ByteArrayInputStream(new byte[2000 + i]))).build());
                assertThat(r.body().strip()).isEqualTo(Integer.toString(2000 + i));
            }
            case 8, 16 -> assertThat(quick.get("/cgi-bin/mix/bg-" + t + ".sh").body()).isEqualTo("bg\n");
            case 19 -> assertThat(quick.get("/cgi-bin/mix/idle-" + t + ".sh").statusCode()).isEqualTo(504);
            default -> assertThat(quick.get("/cgi-bin/mix/ok-" + t + ".sh").body()).isEqualTo("fine\n");
        }
    }

    // ------------------------------------------------------------------ 8. concurrency

    @Test
    @Order(13)
    void overloadIsRefusedWith503AndRetryAfter(@TempDir Path dir) throws Exception {
        String t = tag();
        try (KilnTestServer busy = KilnTestServer.builder(dir).option("max-concurrent", "2")
                .option("max-queued", "1").option("queue-timeout", "1s").option("timeout", "20s").start()) {
            busy.script("nap-" + t + ".sh", "#!/bin/sh\nsleep 2\nprintf 'Content-Type: text/plain\\n\\nslept\\n'\n");
            busy.script("hello.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello\\n'\n");
            String path = "/cgi-bin/nap-" + t + ".sh";
            List<CompletableFuture<Timed>> all = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < 6; i++) {
                all.add(busy.client().sendAsync(HttpRequest.newBuilder(busy.uri(path))
                                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString())
                        .thenApply(r -> new Timed(r, millisSince(t0))));
            }
            List<Timed> done = new ArrayList<>();
            for (CompletableFuture<Timed> f : all) {
                done.add(f.get(30, TimeUnit.SECONDS));
            }
            List<Timed> ok = done.stream().filter(d -> d.r.statusCode() == 200).toList();
            List<Timed> refused = done.stream().filter(d -> d.r.statusCode() == 503).toList();
            assertThat(ok).as(done.toString()).hasSize(2);
            assertThat(refused).as(done.toString()).hasSize(4);
            ok.forEach(d -> assertThat(d.r.body()).isEqualTo("slept\n"));
            for (Timed d : refused) {
                Optional<String> retry = d.r.headers().firstValue("Retry-After");
                assertThat(retry).as("Retry-After on 503").isPresent();
                assertThat(Integer.parseInt(retry.get())).isPositive();
                assertShortErrorPage(d.r, 503, path);
            }
            // three refused at once (queue full), one after waiting queue-timeout for a slot
            assertThat(refused.stream().filter(d -> d.millis < 800).count()).as(done.toString()).isEqualTo(3);
            assertThat(refused.stream().filter(d -> d.millis >= 900 && d.millis < 1900).count())
                    .as(done.toString()).isEqualTo(1);

            // every slot came back: two at once run again, and the server serves normally
            assertThat(busy.kiln().host().settings().limiter().running()).isZero();
            CompletableFuture<HttpResponse<String>> a = busy.client().sendAsync(get(busy, path),
                    HttpResponse.BodyHandlers.ofString());
            CompletableFuture<HttpResponse<String>> b = busy.client().sendAsync(get(busy, path),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(a.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(b.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            HttpResponse<String> hello = busy.get("/cgi-bin/hello.sh");
            assertThat(hello.statusCode()).isEqualTo(200);
            assertThat(hello.body()).isEqualTo("hello\n");
        }
    }

    record Timed(HttpResponse<String> r, long millis) {
        @Override
        public String toString() {
            return r.statusCode() + "@" + millis + "ms";
        }
    }

    // ------------------------------------------------------------------ 9. request bodies

    @Test
    @Order(14)
    void declaredBodyOverMaxBodyIs413WithoutRunningTheScript() throws Exception {
        String t = tag();
        quick.script("body/mark-" + t + ".sh", "#!/bin/sh\n"
                + "touch " + marks + "/ran-" + t + "-$QUERY_STRING\n"
                + "printf 'Content-Type: text/plain\\n\\nran\\n'\n");
        String path = "/cgi-bin/body/mark-" + t + ".sh";
        String answer = raw(quick.port(), "POST " + path + "?big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: " + (MAX_BODY + 1) + "\r\n"
                + "Connection: close\r\n\r\n", new byte[0]);
        assertThat(answer).startsWith("HTTP/1.1 413");
        assertThat(answer).contains("<html").contains("413").doesNotContainPattern(FILE_PATH);

        HttpResponse<String> small = quick.post(path + "?small", "text/plain", "tiny");
        assertThat(small.statusCode()).isEqualTo(200);
        assertThat(marks.resolve("ran-" + t + "-small")).exists(); // the marker works...
        assertThat(marks.resolve("ran-" + t + "-big")).doesNotExist(); // ...and the refused request never ran
    }

    @Test
    @Order(15)
    void chunkedBodiesArriveWithTheirLengthOrAre413OverMaxBody() throws Exception {
        String t = tag();
        quick.script("body/md5-" + t + ".py", "#!" + PY + "\n"
                + "import hashlib, os, sys\n"
                + "open('" + marks + "/md5-" + t + "-' + os.environ.get('QUERY_STRING', ''), 'w').close()\n"
                + "data = sys.stdin.buffer.read()\n"
                + "print('Content-Type: text/plain\\n')\n"
                + "print(os.environ.get('CONTENT_LENGTH', '-'), len(data), hashlib.md5(data).hexdigest())\n");
        String path = "/cgi-bin/body/md5-" + t + ".py";
        byte[] data = randomBytes(300_000 + ThreadLocalRandom.current().nextInt(1000));
        HttpResponse<String> r = quick.send(HttpRequest.newBuilder(quick.uri(path + "?small"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(data))).build());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body().strip()).isEqualTo(data.length + " " + data.length + " " + hex("MD5", data));

        byte[] tooBig = new byte[(int) MAX_BODY + 512 * 1024];
        HttpResponse<String> big = quick.send(HttpRequest.newBuilder(quick.uri(path + "?big"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(tooBig))).build());
        assertThat(big.statusCode()).isEqualTo(413);
        assertShortErrorPage(big, 413, path);
        assertThat(marks.resolve("md5-" + t + "-small")).exists();
        assertThat(marks.resolve("md5-" + t + "-big")).doesNotExist();
    }

    @Test
    @Order(16)
    void scriptThatNeverReadsItsBodyStillGetsItsFullResponseOut() throws Exception {
        String t = tag();
        quick.script("body/ignore-" + t + ".sh", "#!/bin/sh\n"
                + "printf 'Content-Type: text/plain\\n\\n'\n"
                + "i=0; while [ $i -lt 200 ]; do echo \"row $i of the answer\"; i=$((i+1)); done\n"
                + "echo end-" + t + "\n");
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            expected.append("row ").append(i).append(" of the answer\n");
        }
        expected.append("end-").append(t).append('\n');
        byte[] body = randomBytes(5 * 1024 * 1024);
        HttpResponse<String> r = quick.send(HttpRequest.newBuilder(quick.uri("/cgi-bin/body/ignore-" + t + ".sh"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(expected.toString());
        assertThat(quick.get("/cgi-bin/hello.sh").body()).isEqualTo("hello\n");
    }

    @Test
    @Order(17)
    void twentyMegabytesStreamThroughToTheScript() throws Exception {
        String t = tag();
        quick.script("body/sha-" + t + ".py", "#!" + PY + "\n"
                + "import hashlib, os, sys\n"
                + "h = hashlib.sha256(); n = 0\n"
                + "while True:\n"
                + "    b = sys.stdin.buffer.read(65536)\n"
                + "    if not b:\n"
                + "        break\n"
                + "    h.update(b); n += len(b)\n"
                + "print('Content-Type: text/plain\\n')\n"
                + "print(os.environ['CONTENT_LENGTH'], n, h.hexdigest())\n");
        byte[] body = randomBytes(20 * 1024 * 1024);
        HttpResponse<String> r = quick.send(HttpRequest.newBuilder(quick.uri("/cgi-bin/body/sha-" + t + ".py"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body().strip()).isEqualTo(body.length + " " + body.length + " " + hex("SHA-256", body));
    }

    // ------------------------------------------------------------------ 10. methods

    @Test
    @Order(18)
    void headRunsTheScriptAndSendsNoBody() throws Exception {
        String t = tag();
        quick.script("methods/echo-" + t + ".sh", "#!/bin/sh\n"
                + "touch " + marks + "/method-" + t + "-$REQUEST_METHOD\n"
                + "body=$(cat)\n"
                + "printf 'Content-Type: text/plain\\nX-Method: %s\\n\\n' \"$REQUEST_METHOD\"\n"
                + "echo \"method=$REQUEST_METHOD length=${CONTENT_LENGTH:-none} body=$body\"\n");
        String path = "/cgi-bin/methods/echo-" + t + ".sh";
        String answer = raw(quick.port(), "HEAD " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                new byte[0]);
        int end = answer.indexOf("\r\n\r\n");
        assertThat(end).as(answer).isPositive();
        assertThat(answer).startsWith("HTTP/1.1 200").containsIgnoringCase("\r\nX-Method: HEAD\r\n");
        assertThat(answer.substring(end + 4)).as("no body after a HEAD response").isEmpty();
        assertThat(marks.resolve("method-" + t + "-HEAD")).exists();

        HttpResponse<String> viaClient = quick.send(HttpRequest.newBuilder(quick.uri(path))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
        assertThat(viaClient.statusCode()).isEqualTo(200);
        assertThat(viaClient.headers().firstValue("X-Method")).hasValue("HEAD");
        assertThat(viaClient.body()).isEmpty();
    }

    @Test
    @Order(19)
    void everyMethodReachesTheScript() throws Exception {
        String t = tag();
        quick.script("methods/any-" + t + ".sh", "#!/bin/sh\n"
                + "body=$(cat)\n"
                + "printf 'Content-Type: text/plain\\nX-Method: %s\\n\\n' \"$REQUEST_METHOD\"\n"
                + "echo \"method=$REQUEST_METHOD length=${CONTENT_LENGTH:-none} body=$body\"\n");
        String path = "/cgi-bin/methods/any-" + t + ".sh";
        for (String m : List.of("PUT", "PATCH", "DELETE", "OPTIONS", "POST", "PROPFIND")) {
            boolean withBody = m.equals("PUT") || m.equals("PATCH") || m.equals("POST");
            String data = "data-" + m;
            HttpResponse<String> r = quick.send(HttpRequest.newBuilder(quick.uri(path))
                    .timeout(Duration.ofSeconds(30))
                    .method(m, withBody ? HttpRequest.BodyPublishers.ofString(data)
                            : HttpRequest.BodyPublishers.noBody()).build());
            assertThat(r.statusCode()).as(m).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Method")).as(m).hasValue(m);
            // a body-less request may still say Content-Length: 0 (the JDK client does for DELETE)
            assertThat(r.body()).as(m).matches("method=" + m + " length=" + (withBody ? data.length() : "(none|0)")
                    + " body=" + (withBody ? data : "") + "\n");
        }
    }

    // ------------------------------------------------------------------ 11. streaming

    @Test
    @Order(20)
    void outputIsStreamedAsTheScriptWritesIt() throws Exception {
        String t = tag();
        quick.script("stream/drip-" + t + ".pl", "#!/usr/bin/perl\n"
                + "$| = 1;\n"
                + "print \"Content-Type: text/plain\\n\\n\";\n"
                + "for my $i (1..4) { print \"chunk $i\\n\"; select(undef, undef, undef, 0.4); }\n");
        long t0 = System.nanoTime();
        HttpResponse<InputStream> r = quick.client().send(get("/cgi-bin/stream/drip-" + t + ".pl"),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        List<String> lines = new ArrayList<>();
        List<Long> arrived = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String l;
            while ((l = in.readLine()) != null) {
                lines.add(l);
                arrived.add(millisSince(t0));
            }
        }
        long total = millisSince(t0);
        assertThat(lines).containsExactly("chunk 1", "chunk 2", "chunk 3", "chunk 4");
        assertThat(total).isGreaterThanOrEqualTo(1500);
        assertThat(arrived.get(0)).as("first line at %s of %d ms", arrived, total).isLessThan(total - 1000);
        for (int i = 1; i < arrived.size(); i++) {
            // each line reaches the client when the script writes it, 400 ms apart, not all at the end
            assertThat(arrived.get(i) - arrived.get(i - 1)).as("line arrivals %s", arrived).isGreaterThan(200);
        }
    }

    // ------------------------------------------------------------------ 12. still serving

    @Test
    @Order(Integer.MAX_VALUE)
    void serverStillServesAfterEverything() throws Exception {
        HttpResponse<String> r = quick.get("/cgi-bin/hello.sh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hello\n");
        assertThat(quick.kiln().host().settings().limiter().running()).isZero();
        poll("no zombie children of the JVM", 3000, () -> zombieChildren().isEmpty());
    }

    // ------------------------------------------------------------------ helpers

    static String tag() {
        return Integer.toString(ThreadLocalRandom.current().nextInt(100_000, 1_000_000));
    }

    static HttpRequest get(String path) {
        return get(quick, path);
    }

    static HttpRequest get(KilnTestServer server, String path) {
        return HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(30)).GET().build();
    }

    static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    /** The log line without its level: {@code [logger] message}. */
    static String afterLevel(String line) {
        return line.substring(line.indexOf(' ') + 1);
    }

    static void assertShortErrorPage(HttpResponse<String> r, int status, String requestPath) {
        String body = r.body();
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
        assertThat(body.length()).as(body).isLessThan(600);
        assertThat(body).contains("<html").contains(Integer.toString(status)).contains(requestPath);
        assertThat(body).as("no file-system path").doesNotContainPattern(FILE_PATH)
                .doesNotContain(temp.toString());
        assertThat(body).as("no stack trace").doesNotContain("Exception").doesNotContain("\tat ")
                .doesNotContain("dev.kiln").doesNotContain("No such file");
    }

    /** One raw HTTP/1.1 exchange: the request head and body, then everything until the server closes. */
    static String raw(int port, String head, byte[] body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SplittableRandom(n).nextBytes(b);
        return b;
    }

    static String hex(String algorithm, byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(data));
    }

    static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    /** Every process whose command line contains {@code marker}, as "pid: cmdline". */
    static List<String> processes(String marker) {
        List<String> found = new ArrayList<>();
        File[] entries = new File("/proc").listFiles();
        if (entries == null) {
            return found;
        }
        for (File e : entries) {
            String name = e.getName();
            if (name.isEmpty() || !name.chars().allMatch(Character::isDigit)) {
                continue;
            }
            byte[] cmd;
            try {
                cmd = Files.readAllBytes(e.toPath().resolve("cmdline"));
            } catch (NoSuchFileException gone) {
                continue;
            } catch (IOException other) {
                continue;
            }
            String line = new String(cmd, StandardCharsets.ISO_8859_1).replace('\0', ' ');
            if (line.contains(marker)) {
                found.add(name + ": " + line.strip());
            }
        }
        return found;
    }

    /** Children of this JVM that have exited but were never reaped. */
    static List<String> zombieChildren() {
        String me = Long.toString(ProcessHandle.current().pid());
        List<String> found = new ArrayList<>();
        File[] entries = new File("/proc").listFiles();
        if (entries == null) {
            return found;
        }
        for (File e : entries) {
            if (!e.getName().chars().allMatch(Character::isDigit)) {
                continue;
            }
            String stat;
            try {
                stat = Files.readString(e.toPath().resolve("stat"), StandardCharsets.ISO_8859_1);
            } catch (IOException gone) {
                continue;
            }
            String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (rest[0].equals("Z") && rest[1].equals(me)) {
                found.add(stat.strip());
            }
        }
        return found;
    }

    static void awaitProcess(String marker, long millis) throws InterruptedException {
        poll("a process with " + marker + " running", millis, () -> !processes(marker).isEmpty());
    }

    static void awaitNoProcess(String marker, long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        List<String> left = processes(marker);
        while (!left.isEmpty() && System.nanoTime() < end) {
            Thread.sleep(25);
            left = processes(marker);
        }
        assertThat(left).as("processes with %s still running after %d ms", marker, millis).isEmpty();
    }

    static void poll(String what, long millis, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("not within " + millis + " ms: " + what);
            }
            Thread.sleep(25);
        }
    }
}
