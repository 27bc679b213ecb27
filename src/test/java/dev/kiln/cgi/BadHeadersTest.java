package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.kiln.testing.LogCapture;
import dev.kiln.testing.ProcScan;

/** A header block Kiln cannot pass on (malformed, over max-header-size, endless) is a 502, at once. */
class BadHeadersTest extends LimitsFixture {
    @Test
    void malformedHeaderBlockIs502WithTheLineQuotedInTheLog() throws Exception {
        String t = tag();
        quick.script("hdr/bad-" + t + ".sh", "#!/bin/sh\nprintf 'this is not a header\\n\\nbody\\n'\n");
        try (LogCapture logs = LogCapture.capture()) {
            String bad = "/cgi-bin/hdr/bad-" + t + ".sh";
            HttpResponse<String> r = quick.get(bad);
            assertThat(r.statusCode()).isEqualTo(502);
            assertShortErrorPage(r, 502, bad);
            assertThat(logs.await(3000, bad, "502", "\"this is not a header\"")).as(logs.lines().toString()).hasSize(1);
        }
    }

    @Test
    void oversizedHeaderBlockIs502AtOnceAndTheScriptIsStopped() throws Exception {
        String t = tag();
        quick.script("hdr/big-" + t + ".sh", "#!/bin/sh\n"
                + "printf 'Content-Type: text/plain\\nX-Big: '\n"
                + "head -c 10000 /dev/zero | tr '\\000' a\n"
                + "printf '\\n\\nbody\\n'\n"
                + "sleep 300." + t + "\n");
        try (LogCapture logs = LogCapture.capture()) {
            String big = "/cgi-bin/hdr/big-" + t + ".sh";
            long t0 = System.nanoTime();
            HttpResponse<String> r = quick.get(big);
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(millisSince(t0)).as("502 at once, not after the script's timeout").isLessThan(2500);
            assertShortErrorPage(r, 502, big);
            assertThat(r.body()).doesNotContain("aaaa");
            assertThat(logs.await(3000, big, "502")).as(logs.lines().toString()).hasSize(1);
            ProcScan.awaitGone("big-" + t, Duration.ofSeconds(2));
            ProcScan.awaitGone("300." + t, Duration.ofSeconds(2));
        }
    }

    @Test
    void tooManyHeaderLinesIs502() throws Exception {
        String t = tag();
        quick.script("hdr/many-" + t + ".sh", "#!/bin/sh\n"
                + "i=0; while [ $i -lt 400 ]; do echo \"X-Line-$i: some value\"; i=$((i+1)); done\n"
                + "printf '\\nbody\\n'\n");
        String many = "/cgi-bin/hdr/many-" + t + ".sh";
        HttpResponse<String> r = quick.get(many);
        assertThat(r.statusCode()).isEqualTo(502);
        assertShortErrorPage(r, 502, many);
    }

    /** What RFC 9110 forbids a final response to carry is a 502 with the reason logged, never sent on. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "interim|Status: 103 Early Hints\\nContent-Type: text/plain|interim",
        "twice|Content-Type: text/plain\\nContent-Type: text/html|sent twice",
        "length-twice|Content-Length: 4\\nContent-Length: 4|sent twice",
        "length-word|Content-Length: four|decimal",
        "control|Content-Type: text/plain\\nX-Bad: a\\001b|control character",
        "location-space|Location: /cgi-bin/a b|URI reference",
    })
    void responseFieldsRfc9110ForbidsAre502(String name, String head, String reason) throws Exception {
        String t = tag();
        quick.script("hdr/" + name + "-" + t + ".sh", "#!/bin/sh\nprintf '" + head + "\\n\\nbody'\n");
        String path = "/cgi-bin/hdr/" + name + "-" + t + ".sh";
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = quick.get(path);
            assertThat(r.statusCode()).isEqualTo(502);
            assertShortErrorPage(r, 502, path);
            assertThat(logs.await(3000, path, "502", reason)).as(String.join("\n", logs.lines())).hasSize(1);
        }
    }
}
