package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.Json;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.LogLines;

/**
 * Each request's id: X-Request-Id on the response, UNIQUE_ID for the script, and in the access log and every
 * log line about the request, each stderr line with the script's pid, so two concurrent requests to one script
 * can be told apart.
 */
class RequestIdTest {
    private static final String TALK = "#!/bin/sh\n"
            + "for i in 1 2 3; do echo \"line-$i of $$\" >&2; sleep 0.1; done\n"
            + "printf 'Content-Type: application/json\\n\\n{\"id\": \"%s\", \"pid\": \"%s\"}\\n' \"$UNIQUE_ID\" $$\n";

    @TempDir
    Path temp;

    @Test
    void concurrentRequestsToOneScriptHaveTheirOwnIdInEveryLine() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start();
             LogCapture logs = LogCapture.capture();
             LogCapture access = LogCapture.capture("kiln.access")) {
            kiln.script("talk.sh", TALK);
            HttpRequest req = HttpRequest.newBuilder(kiln.uri("/cgi-bin/talk.sh")).header("X-Request-Id", "forged")
                    .build();
            CompletableFuture<HttpResponse<String>> a = kiln.client().sendAsync(req, HttpResponse.BodyHandlers.ofString());
            CompletableFuture<HttpResponse<String>> b = kiln.client().sendAsync(req, HttpResponse.BodyHandlers.ofString());
            LogLines context = logs.withContext();
            for (HttpResponse<String> r : List.of(a.get(), b.get())) {
                assertThat(r.statusCode()).isEqualTo(200);
                String id = r.headers().firstValue("X-Request-Id").orElseThrow();
                assertThat(id).as("an incoming id is not trusted by default").isNotEqualTo("forged")
                        .matches("[A-Za-z0-9_-]{20}");
                Map<String, String> body = Json.strings(r.body());
                assertThat(body.get("id")).as("UNIQUE_ID").isEqualTo(id);
                String pid = body.get("pid");
                List<String> mine = context.await(3000, "request=" + id + " pid=" + pid + " line-3 of " + pid);
                assertThat(mine).as(context.lines().toString()).hasSize(1);
                assertThat(context.matching("[kiln.script.talk.sh]", "request=" + id + " pid=" + pid + " line-"))
                        .hasSize(3);
                assertThat(access.await(3000, " " + id)).as(access.lines().toString()).hasSize(1);
            }
            assertThat(a.get().headers().firstValue("X-Request-Id"))
                    .isNotEqualTo(b.get().headers().firstValue("X-Request-Id"));
        }
    }

    @Test
    void anIncomingIdIsReusedOnlyWhenTrustedAndWellFormed() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("trust-request-id", "true").start()) {
            kiln.script("talk.sh", TALK);
            HttpResponse<String> r = kiln.send(HttpRequest.newBuilder(kiln.uri("/cgi-bin/talk.sh"))
                    .header("X-Request-Id", "proxy-1234.abc_Z").build());
            assertThat(r.headers().firstValue("X-Request-Id")).hasValue("proxy-1234.abc_Z");
            assertThat(Json.strings(r.body()).get("id")).isEqualTo("proxy-1234.abc_Z");
            HttpResponse<String> forged = kiln.send(HttpRequest.newBuilder(kiln.uri("/kiln/health"))
                    .header("X-Request-Id", "x\" injected").build());
            assertThat(forged.headers().firstValue("X-Request-Id").orElseThrow()).matches("[A-Za-z0-9_-]{20}");
        }
    }

    @Test
    void theAccessLogIsCombinedWithDashesForWhatIsAbsentAndTheDuration() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start();
             LogCapture access = LogCapture.capture("kiln.access")) {
            HttpResponse<String> r = kiln.send(HttpRequest.newBuilder(kiln.uri("/kiln/health"))
                    .header("User-Agent", "probe/1").build());
            String id = r.headers().firstValue("X-Request-Id").orElseThrow();
            String line = access.await(3000, id).get(0);
            assertThat(line).matches(".*\\] 127\\.0\\.0\\.1 - - \\[[^]]+\\] \"GET /kiln/health HTTP/1\\.1\" 200 \\d+ "
                    + "\"-\" \"probe/1\" \\d+ " + id);
            assertThat(line).doesNotContain("\"\"");
        }
    }
}
