package dev.kiln.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;

/** Stopping Kiln stops its scripts too, even one that ignores SIGTERM, and their children. */
class ShutdownTest {
    @TempDir
    Path temp;

    static long processesWith(String marker) throws Exception {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
                try {
                    return new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).contains(marker);
                } catch (Exception e) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void closingKilnKillsRunningScriptsAndTheirChildren() throws Exception {
        String marker = "300." + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        KilnTestServer kiln = KilnTestServer.builder(temp).option("kill-grace", "500ms").option("timeout", "10m")
                .option("idle-timeout", "10m").start();
        try {
            kiln.script("stubborn.sh", "#!/bin/sh\ntrap '' TERM\nsleep " + marker + " &\nsleep " + marker + "\n");
            kiln.client().sendAsync(HttpRequest.newBuilder(kiln.uri("/cgi-bin/stubborn.sh")).build(),
                    HttpResponse.BodyHandlers.discarding());
            long end = System.currentTimeMillis() + 10_000;
            while (processesWith(marker) < 2 && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            assertThat(processesWith(marker)).as("script and its child are running").isEqualTo(2);
        } finally {
            kiln.close();
        }
        long end = System.currentTimeMillis() + 5_000;
        while (processesWith(marker) > 0 && System.currentTimeMillis() < end) {
            Thread.sleep(20);
        }
        assertThat(processesWith(marker)).as("nothing survives the server").isZero();
    }
}
