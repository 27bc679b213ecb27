package dev.kiln.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

import dev.kiln.testing.EachRunMode;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.Poll;
import dev.kiln.testing.ProcScan;

/**
 * Stopping Kiln stops its scripts too, even one that ignores SIGTERM, and their children; a request that gets its
 * slot while Kiln stops is told to come back (503, Retry-After), not that its script cannot start.
 */
@EachRunMode
class ShutdownTest {
    @Parameter
    String runMode;
    @TempDir
    Path temp;

    @Test
    void closingKilnKillsRunningScriptsAndTheirChildren() throws Exception {
        String marker = "300." + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).option("kill-grace", "500ms")
                .option("timeout", "10m").option("idle-timeout", "10m").start();
        try {
            kiln.script("stubborn.sh", "#!/bin/sh\ntrap '' TERM\nsleep " + marker + " &\nsleep " + marker + "\n");
            kiln.client().sendAsync(HttpRequest.newBuilder(kiln.uri("/cgi-bin/stubborn.sh")).build(),
                    HttpResponse.BodyHandlers.discarding());
            assertThat(ProcScan.awaitRunning(marker, 2, Duration.ofSeconds(10)))
                    .as("the script's own sleep and its background child").hasSize(2);
        } finally {
            kiln.close();
        }
        ProcScan.awaitGone(marker, Duration.ofSeconds(5));
    }

    @Test
    void aRequestAdmittedWhileKilnStopsGets503WithRetryAfter() throws Exception {
        String marker = "301." + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).option("max-concurrent", "1")
                .option("queue-timeout", "30s").option("shutdown-grace", "0s").option("kill-grace", "200ms")
                .option("timeout", "10m").option("idle-timeout", "10m").start();
        try (LogCapture logs = LogCapture.capture()) {
            kiln.script("slow.sh", "#!/bin/sh\nsleep " + marker + "\n");
            kiln.script("ok.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n");
            kiln.client().sendAsync(HttpRequest.newBuilder(kiln.uri("/cgi-bin/slow.sh")).build(),
                    HttpResponse.BodyHandlers.discarding());
            ProcScan.awaitRunning(marker, 1, Duration.ofSeconds(10));
            CompletableFuture<HttpResponse<String>> queued = kiln.client().sendAsync(
                    HttpRequest.newBuilder(kiln.uri("/cgi-bin/ok.sh")).build(), HttpResponse.BodyHandlers.ofString());
            Poll.within(Duration.ofSeconds(10)).until("the second request waits for the slot",
                    () -> kiln.kiln().host().settings().limiter().waiting() == 1);
            kiln.close(); // the slow script is stopped, its slot goes to the waiting request
            HttpResponse<String> answer = queued.get();
            assertThat(answer.statusCode()).as(String.join("\n", logs.lines())).isEqualTo(503);
            assertThat(answer.headers().firstValue("Retry-After")).isPresent();
            assertThat(logs.matching("/cgi-bin/ok.sh", "503", "Kiln is stopping")).as(String.join("\n", logs.lines()))
                    .hasSize(1);
        } finally {
            kiln.close();
        }
    }
}
