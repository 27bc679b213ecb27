package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.Poll;
import dev.kiln.testing.RawHttp;

/** What operators read: one error page everywhere, DEBUG lines that show a run, overload as a summary. */
class OperatorLogsTest {
    @TempDir
    Path temp;

    @Test
    void everyPathKilnAnswersHasKilnsErrorPageInUtf8() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            for (String path : List.of("/nope", "/kiln/nope", "/cgi-bin/nope.sh", "/favicon.ico")) {
                HttpResponse<String> r = kiln.get(path);
                assertThat(r.statusCode()).as(path).isEqualTo(404);
                assertThat(r.headers().firstValue("Content-Type").orElseThrow()).isEqualToIgnoringCase(
                        "text/html;charset=utf-8");
                assertThat(r.body()).contains("<title>404 Not Found</title>").contains("<p>" + path + "</p>")
                        .doesNotContain("<table").doesNotContain("Powered by").doesNotContain("jetty");
            }
        }
    }

    @Test
    void debugShowsEachScriptsCommandLineFolderAndEnvironmentNames() throws Exception {
        Logger cgi = (Logger) LoggerFactory.getLogger("kiln.cgi");
        Level before = cgi.getLevel();
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start(); LogCapture logs = LogCapture.capture()) {
            cgi.setLevel(Level.DEBUG);
            Path script = kiln.script("sub/ok.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n");
            assertThat(kiln.get("/cgi-bin/sub/ok.sh?secret=v4lue").statusCode()).isEqualTo(200);
            List<String> lines = logs.matching("DEBUG [kiln.cgi] GET /cgi-bin/sub/ok.sh: running ");
            assertThat(lines).as(logs.lines().toString()).hasSize(1);
            assertThat(lines.get(0)).contains(script.toString()).contains(" in " + script.getParent() + " ")
                    .contains("QUERY_STRING").contains("UNIQUE_ID").contains("REQUEST_METHOD").doesNotContain("v4lue");
        } finally {
            cgi.setLevel(before);
        }
    }

    @Test
    void overloadRefusalsAreOneLineNotOneEach() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("max-concurrent", "1")
                .option("max-queued", "0").start(); LogCapture logs = LogCapture.capture()) {
            Path go = temp.resolve("go");
            kiln.script("hold.sh", "#!/bin/sh\nwhile [ ! -e " + go + " ]; do sleep 0.05; done\n"
                    + "printf 'Content-Type: text/plain\\n\\nheld\\n'\n");
            CompletableFuture<HttpResponse<String>> held = kiln.client().sendAsync(
                    HttpRequest.newBuilder(kiln.uri("/cgi-bin/hold.sh")).build(), HttpResponse.BodyHandlers.ofString());
            Poll.withinMillis(5000).until("slot taken", () -> kiln.kiln().runningNow().size(), n -> n == 1);
            for (int i = 0; i < 6; i++) {
                assertThat(kiln.get("/cgi-bin/hold.sh").statusCode()).isEqualTo(503);
            }
            Files.createFile(go);
            assertThat(held.get().statusCode()).isEqualTo(200);
            assertThat(logs.matching("WARN", ": 503, ")).as(logs.lines().toString()).hasSize(1);
            assertThat(kiln.kiln().host().settings().limiter().rejected()).isEqualTo(6);
        }
    }

    @Test
    void aMalformedRequestGetsKilnsPageToo() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            RawHttp.Reply answer = RawHttp.exchange(kiln.port(), "GET /\u0001bad HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(answer.status()).as(answer.text()).isEqualTo(400);
            assertThat(answer.body()).contains("400 Bad Request").doesNotContain("<table");
        }
    }
}
