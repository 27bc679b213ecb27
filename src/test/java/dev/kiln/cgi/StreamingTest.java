package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.RawHttp;

/**
 * A script's output reaches the client as it is written, not when the script ends; one that has finished by the
 * time it is sent goes out whole, with its length, as Apache sends it.
 */
class StreamingTest extends LimitsFixture {
    @Test
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

    @Test
    void aFinishedScriptsBodyGoesOutWithItsLengthAndAPausingOnesWithout() throws Exception {
        String t = tag();
        // its output ends right after its one write (not when the interpreter has torn down, a few ms later on an
        // idle machine and more on a busy one), so this asks nothing of the machine's speed
        quick.script("stream/whole-" + t + ".py", "#!" + PY + "\nimport os, sys\nprint('Content-Type: text/plain')\n"
                + "print()\nprint('hello ' * 100)\nsys.stdout.flush()\nos.close(1)\n");
        quick.script("stream/pause-" + t + ".sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nfirst\\n'\n"
                + "sleep 0.3\nprintf 'second\\n'\n");
        RawHttp.Reply whole = RawHttp.get(quick.port(), "/cgi-bin/stream/whole-" + t + ".py");
        assertThat(whole.status()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo("hello ".repeat(100) + "\n");
        assertThat(whole.head()).containsIgnoringCase("Content-Length: 601\r\n")
                .doesNotContainIgnoringCase("Transfer-Encoding");
        RawHttp.Reply paused = RawHttp.get(quick.port(), "/cgi-bin/stream/pause-" + t + ".sh");
        assertThat(paused.status()).isEqualTo(200);
        assertThat(paused.body()).isEqualTo("first\nsecond\n");
        // its head went out before its end: no length (this client's Connection: close frames it by the close)
        assertThat(paused.head()).doesNotContainIgnoringCase("Content-Length");
    }
}
