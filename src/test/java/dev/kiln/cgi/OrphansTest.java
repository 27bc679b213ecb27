package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.Poll;
import dev.kiln.testing.ProcScan;

/** Background children a script leaves behind die with it: its process group is killed when it exits. */
class OrphansTest extends LimitsFixture {
    @Test
    void aDetachedBackgroundChildDoesNotOutliveTheScript() throws Exception {
        String t = tag();
        Path pidFile = marks.resolve("orphan-" + t);
        // detached from every pipe: nothing but the group kill on exit can end it
        quick.script("orphan/detached-" + t + ".sh", "#!/bin/sh\n"
                + "sleep 300.5" + t + " >/dev/null 2>&1 </dev/null &\n"
                + "echo $! > " + pidFile + "\n"
                + "printf 'Content-Type: text/plain\\n\\ndone-" + t + "\\n'\n");
        HttpResponse<String> r = quick.get("/cgi-bin/orphan/detached-" + t + ".sh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("done-" + t + "\n");
        String pid = Files.readString(pidFile).strip();
        assertThat(pid).matches("\\d+");
        Poll.withinMillis(3000).until("background sleep " + pid + " gone", () -> !ProcScan.alive(pid, "300.5" + t));
        ProcScan.awaitGone("300.5" + t, Duration.ofSeconds(1));
    }

    @Test
    void aChildStillHoldingStdoutDoesNotHoldTheResponse() throws Exception {
        String t = tag();
        // still holding stdout: the response ends only once the group is killed on exit
        quick.script("orphan/holding-" + t + ".sh", "#!/bin/sh\n"
                + "sleep 300.6" + t + " &\n"
                + "printf 'Content-Type: text/plain\\n\\nheld-" + t + "\\n'\n");
        long t0 = System.nanoTime();
        HttpResponse<String> r = quick.get("/cgi-bin/orphan/holding-" + t + ".sh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("held-" + t + "\n");
        assertThat(millisSince(t0)).as("well before the idle timeout").isLessThan(900);
        ProcScan.awaitGone("300.6" + t, Duration.ofSeconds(2));
    }
}
