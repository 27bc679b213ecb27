package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.metrics.KilnMetrics;
import dev.kiln.testing.Json;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.Poll;
import dev.kiln.testing.PrometheusText;
import dev.kiln.testing.PrometheusText.Sample;

/** /kiln/health, /kiln/ready and /kiln/metrics of a real Kiln, the metrics read by the Prometheus parser. */
class HealthAndMetricsTest {
    private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    @TempDir
    Path temp;

    @Test
    void readyIs503WhileEverySlotIsTakenOrKilnIsStoppingAndRejectionsAndTimeoutsAreCounted() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("max-concurrent", "1")
                .option("max-queued", "0").option("idle-timeout", "1s").option("kill-grace", "200ms").start()) {
            Path go = temp.resolve("go");
            kiln.script("hold.sh", "#!/bin/sh\nwhile [ ! -e " + go + " ]; do sleep 0.05; done\n"
                    + "printf 'Content-Type: text/plain\\n\\nheld\\n'\n");
            kiln.script("silent.sh", "#!/bin/sh\nsleep 30\n");
            assertThat(kiln.get("/kiln/health").statusCode()).isEqualTo(200);
            assertThat(Json.tree(kiln.get("/kiln/health").body()).path("status").asText()).isEqualTo("up");
            assertThat(kiln.get("/kiln/ready").statusCode()).isEqualTo(200);

            CompletableFuture<HttpResponse<String>> held = kiln.client().sendAsync(
                    HttpRequest.newBuilder(kiln.uri("/cgi-bin/hold.sh")).build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> busy = Poll.withinMillis(5000).until("ready says busy", () -> kiln.get("/kiln/ready"),
                    r -> r.statusCode() == 503);
            assertThat(busy.body()).contains("every script slot is taken");
            assertThat(kiln.get("/cgi-bin/hold.sh").statusCode()).as("no slot, no queue").isEqualTo(503);
            Files.createFile(go);
            assertThat(held.get().body()).isEqualTo("held\n");
            Poll.withinMillis(5000).until("ready again", () -> kiln.get("/kiln/ready").statusCode(), s -> s == 200);

            assertThat(kiln.get("/cgi-bin/silent.sh").statusCode()).as("idle timeout").isEqualTo(504);
            List<Sample> m = PrometheusText.parse(kiln.get("/kiln/metrics").body(), false);
            assertThat(PrometheusText.value(m, "kiln_rejections_total")).isEqualTo(1);
            assertThat(PrometheusText.value(m, "kiln_scripts_stopped_total", "reason", "idle-timeout")).isEqualTo(1);
            assertThat(PrometheusText.value(m, "kiln_requests_total", "script", "hold.sh", "status", "503"))
                    .isEqualTo(1);

            kiln.kiln().beginStopping();
            HttpResponse<String> stopping = kiln.get("/kiln/ready");
            assertThat(stopping.statusCode()).isEqualTo(503);
            assertThat(stopping.body()).contains("stopping");
            assertThat(kiln.get("/kiln/health").statusCode()).as("still alive").isEqualTo(200);
        }
    }

    @Test
    void readyIs503WhileTheCacheIsUnusable() throws Exception {
        Path notAFolder = Files.writeString(temp.resolve("file"), "x");
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("cache", notAFolder.resolve("c").toString())
                .start()) {
            HttpResponse<String> r = kiln.get("/kiln/ready");
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(Json.tree(r.body()).path("reasons").get(0).asText()).startsWith("cache unusable");
            assertThat(kiln.get("/kiln/health").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void metricsAreValidPrometheusTextAndOpenMetricsWithRequestsByScriptAndStatus() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            kiln.script("ok.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n");
            kiln.script("fail.sh", "#!/bin/sh\nexit 3\n");
            kiln.script("app.py", "import sys\nprint('Content-Type: text/plain\\n\\npy')\n");
            assertThat(kiln.get("/cgi-bin/ok.sh").statusCode()).isEqualTo(200);
            assertThat(kiln.get("/cgi-bin/ok.sh").statusCode()).isEqualTo(200);
            assertThat(kiln.get("/cgi-bin/app.py").statusCode()).isEqualTo(200);
            assertThat(kiln.get("/cgi-bin/fail.sh").statusCode()).isEqualTo(500);
            assertThat(kiln.get("/cgi-bin/missing-" + System.nanoTime()).statusCode()).isEqualTo(404);
            kiln.awaitCounters("app.py", c -> c.requests() == 1);

            HttpResponse<String> text = kiln.get("/kiln/metrics");
            assertThat(text.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain; version=0.0.4");
            List<Sample> m = PrometheusText.parse(text.body(), false);
            assertThat(PrometheusText.value(m, "kiln_requests_total", "script", "ok.sh", "status", "200")).isEqualTo(2);
            assertThat(PrometheusText.value(m, "kiln_requests_total", "script", "fail.sh", "status", "500"))
                    .isEqualTo(1);
            assertThat(PrometheusText.value(m, "kiln_requests_total", "script", "none", "status", "404")).isEqualTo(1);
            assertThat(PrometheusText.value(m, "kiln_request_duration_seconds_count", "script", "ok.sh")).isEqualTo(2);
            assertThat(PrometheusText.value(m, "kiln_request_duration_seconds_bucket", "script", "ok.sh", "le", "60.0"))
                    .isEqualTo(2);
            assertThat(PrometheusText.value(m, "kiln_modules_compiled_total")
                    + PrometheusText.value(m, "kiln_cache_hits_total")).as("app.py's modules").isPositive();
            for (String name : List.of("kiln_cache_misses_total", "kiln_cache_write_failures_total",
                    "kiln_scripts_running", "kiln_queue_length", "kiln_rejections_total", "kiln_script_kills_total",
                    "kiln_forkserver_restarts_total", "kiln_compile_seconds_total")) {
                assertThat(PrometheusText.value(m, name)).as(name).isGreaterThanOrEqualTo(0);
            }
            assertThat(m).extracting(Sample::name).contains("jvm_memory_used_bytes", "jvm_threads_current",
                    "process_cpu_seconds_total");
            assertThat(m).filteredOn(s -> s.type().equals("counter")).extracting(Sample::name)
                    .allMatch(n -> n.endsWith("_total") || n.endsWith("_created"));

            HttpResponse<String> om = kiln.send(HttpRequest.newBuilder(kiln.uri("/kiln/metrics"))
                    .header("Accept", OPENMETRICS).timeout(Duration.ofSeconds(10)).build());
            assertThat(om.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/openmetrics-text");
            assertThat(om.body()).endsWith("# EOF\n");
            List<Sample> o = PrometheusText.parse(om.body(), true);
            assertThat(PrometheusText.value(o, "kiln_requests_total", "script", "ok.sh", "status", "200")).isEqualTo(2);
        }
    }

    @Test
    void scriptLabelsAreBoundedTheRestCountAsOther() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            for (int i = 0; i < KilnMetrics.SCRIPT_LABELS + 50; i++) {
                kiln.kiln().metrics().record("scan/" + i + ".sh", 404, 1_000_000);
            }
            List<Sample> m = PrometheusText.parse(kiln.get("/kiln/metrics").body(), false);
            List<String> scripts = m.stream().filter(s -> s.name().equals("kiln_requests_total"))
                    .map(s -> s.labels().get("script")).distinct().toList();
            assertThat(scripts).hasSize(KilnMetrics.SCRIPT_LABELS + 1).contains("other");
            assertThat(PrometheusText.value(m, "kiln_requests_total", "script", "other", "status", "404")).isEqualTo(50);
        }
    }
}
