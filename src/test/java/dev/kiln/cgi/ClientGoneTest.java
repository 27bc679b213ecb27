package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.ProcScan;
import dev.kiln.testing.RawHttp;

/** A client that hangs up mid-answer stops its script long before any timeout would. */
class ClientGoneTest extends LimitsFixture {
    @Test
    void clientGoingAwayStopsTheScript(@TempDir Path dir) throws Exception {
        String t = tag();
        try (KilnTestServer roomy = builder(dir).option("timeout", "60s")
                .option("idle-timeout", "30s").option("kill-grace", "500ms").start()) {
            roomy.script("chatty-" + t + ".sh", "#!/bin/sh\n"
                    + "printf 'Content-Type: text/plain\\n\\n'\n"
                    + "i=0\n"
                    + "while [ $i -lt 300 ]; do echo \"line $i of a long answer\"; sleep 0.1; i=$((i+1)); done\n");
            try (RawHttp.Connection c = RawHttp.open(roomy.port(),
                    "GET /cgi-bin/chatty-" + t + ".sh HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) {
                assertThat(c.readUntil("line 2 ")).startsWith("HTTP/1.1 200");
                assertThat(ProcScan.withMarker("chatty-" + t)).isNotEmpty();
            }
            ProcScan.awaitGone("chatty-" + t, Duration.ofSeconds(5));
            roomy.script("hello.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello\\n'\n");
            assertThat(roomy.get("/cgi-bin/hello.sh").body()).isEqualTo("hello\n");
        }
    }
}
