package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.Poll;
import dev.kiln.testing.ProcScan;

/** Hundreds of requests of every outcome leave no descriptor, child, zombie or busy slot behind. */
class LeaksTest extends LimitsFixture {
    @Test
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
        int fdsBefore = ProcScan.openFds();
        long childrenBefore = ProcessHandle.current().children().count();
        for (int i = 0; i < 100; i++) {
            mixed(t, i);
        }
        ProcScan.awaitGone("300." + t, Duration.ofSeconds(3));
        ProcScan.awaitGone("-" + t + ".", Duration.ofSeconds(3));
        Poll.withinMillis(3000).until("no zombie children of the JVM", ProcScan::zombieChildren, z -> z.isEmpty());
        Poll.withinMillis(5000).until("descriptors back near " + fdsBefore, ProcScan::openFds,
                fds -> fds <= fdsBefore + 4);
        assertThat(ProcessHandle.current().children().count()).isLessThanOrEqualTo(childrenBefore);
        assertThat(quick.status().path("scriptsRunning").asLong()).isZero();
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
}
