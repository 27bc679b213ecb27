package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.LogCapture;
import dev.kiln.testing.ProcScan;

/**
 * idle-timeout and timeout: a silent or endless script is stopped (SIGTERM, SIGKILL after kill-grace) with its
 * whole process group, and the client learns it.
 */
class TimeoutsTest extends LimitsFixture {
    @Test
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
            ProcScan.awaitRunning(child, 1, Duration.ofSeconds(2));
            ProcScan.awaitRunning(self, 1, Duration.ofSeconds(2));
            HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
            long took = millisSince(t0);
            assertThat(r.statusCode()).isEqualTo(504);
            assertShortErrorPage(r, 504, path);
            assertThat(took).as("idle-timeout 1s, well before timeout 3s").isBetween(900L, 2800L);
            ProcScan.awaitGone(child, Duration.ofSeconds(2));
            ProcScan.awaitGone(self, Duration.ofSeconds(2));
            ProcScan.awaitGone("idle-" + t, Duration.ofSeconds(2));
            assertThat(logs.await(2000, path, "504")).hasSize(1);
        }
    }

    @Test
    void scriptRunningPastTheTotalTimeoutIsKilledEvenWhileProducingOutput() throws Exception {
        String t = tag();
        quick.script("slow/drip-" + t + ".sh", "#!/bin/sh\n"
                + "printf 'Content-Type: text/plain\\n\\n'\n"
                + "while :; do echo tick; sleep 0.3; done\n");
        String path = "/cgi-bin/slow/drip-" + t + ".sh";
        long t0 = System.nanoTime();
        HttpResponse<InputStream> r = quick.client().send(get(path), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        ProcScan.awaitRunning("drip-" + t, 1, Duration.ofSeconds(1));
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
        ProcScan.awaitGone("drip-" + t, Duration.ofSeconds(2));
    }

    @Test
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
        ProcScan.awaitRunning(child, 1, Duration.ofSeconds(2));
        ProcScan.awaitRunning(self, 1, Duration.ofSeconds(2));
        HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
        long took = millisSince(t0);
        assertThat(r.statusCode()).isEqualTo(504);
        // SIGTERM at idle-timeout (1s) is ignored; only SIGKILL after kill-grace (500ms) ends it
        assertThat(took).isBetween(1400L, 2900L);
        ProcScan.awaitGone(child, Duration.ofSeconds(2));
        ProcScan.awaitGone(self, Duration.ofSeconds(2));
        ProcScan.awaitGone("stubborn-" + t, Duration.ofSeconds(2));
    }

    @Test
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
        ProcScan.awaitGone("300." + t, Duration.ofSeconds(2));
    }
}
