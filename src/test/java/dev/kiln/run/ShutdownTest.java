package dev.kiln.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

import dev.kiln.testing.EachRunMode;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.ProcScan;

/** Stopping Kiln stops its scripts too, even one that ignores SIGTERM, and their children. */
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
}
