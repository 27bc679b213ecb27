package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.testing.Chromium;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.PrometheusText;
import dev.kiln.testing.PrometheusText.Sample;

/**
 * The status page in a real browser (Debian's headless Chromium): its figures are the JSON's and the metrics',
 * it needs no script, it draws the last hour, and a screenshot is kept as target/status-page.png.
 */
class StatusPageBrowserTest {
    private static final Pattern FIGURE = Pattern.compile("data-figure=\"([^\"]+)\"[^>]*>([^<]*)<");

    @TempDir
    Path temp;

    @Test
    void theFiguresAChromiumUserSeesAreTheJsonsAndTheMetrics() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp.resolve("kiln")).start()) {
            kiln.script("ok.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n");
            kiln.script("fail.sh", "#!/bin/sh\nexit 3\n");
            kiln.script("app.py", "import json\nprint('Content-Type: text/plain\\n\\npy')\n");
            for (int i = 0; i < 3; i++) {
                kiln.get("/cgi-bin/ok.sh");
            }
            kiln.get("/cgi-bin/fail.sh");
            kiln.get("/cgi-bin/app.py");
            kiln.awaitCounters("app.py", c -> c.requests() == 1);

            String url = "http://127.0.0.1:" + kiln.port() + "/kiln/";
            Chromium chromium = new Chromium(temp.resolve("profile"));
            String dom = chromium.dom(url);
            JsonNode status = kiln.status();
            List<Sample> metrics = PrometheusText.parse(kiln.get("/kiln/metrics").body(), false);
            chromium.screenshot(url, Path.of("target/status-page.png"), 1200, 1400);

            Map<String, String> page = figures(dom);
            assertThat(dom).contains("<svg").contains("requests per minute").doesNotContain("<script");
            assertThat(dom.split("<g><title>", -1)).as("one bar group per minute").hasSize(61);
            assertThat(dom).contains("http-equiv=\"refresh\"");
            assertThat(page.get("ready")).isEqualTo("ready");
            assertThat(page.get("cache-mode")).isEqualTo(status.path("cache").path("mode").asText());
            assertThat(page.get("cache-folder")).isEqualTo(status.path("cache").path("folder").asText());
            for (String script : List.of("ok.sh", "fail.sh", "app.py")) {
                JsonNode r = status.path("requests").path(script);
                double counted = metrics.stream().filter(s -> s.name().equals("kiln_requests_total"))
                        .filter(s -> script.equals(s.labels().get("script"))).mapToDouble(Sample::value).sum();
                assertThat(page.get("requests:" + script)).as(script).isEqualTo(r.path("requests").asText())
                        .isEqualTo(Long.toString((long) counted));
                assertThat(page.get("errors:" + script)).isEqualTo(r.path("errors").asText());
                assertThat(page.get("p50:" + script)).isEqualTo(r.path("p50Millis").asText());
                assertThat(page.get("p95:" + script)).isEqualTo(r.path("p95Millis").asText());
            }
            assertThat(page.get("requests:ok.sh")).isEqualTo("3");
            assertThat(page.get("errors:fail.sh")).isEqualTo("1");
            JsonNode py = status.path("scriptsStats").path("app.py");
            assertThat(page.get("compiled:app.py")).isEqualTo(py.path("modulesCompiled").asText());
            assertThat(page.get("cached:app.py"))
                    .isEqualTo(Long.toString(py.path("cacheHits").asLong() + py.path("shippedHits").asLong()));
            assertThat(Long.parseLong(page.get("compiled:app.py")) + Long.parseLong(page.get("cached:app.py")))
                    .isEqualTo((long) (PrometheusText.value(metrics, "kiln_modules_compiled_total")
                            + PrometheusText.value(metrics, "kiln_cache_hits_total")));
            assertThat(page.get("running")).isEqualTo("0");
        }
    }

    private static Map<String, String> figures(String dom) {
        Map<String, String> out = new HashMap<>();
        Matcher m = FIGURE.matcher(dom);
        while (m.find()) {
            out.put(m.group(1), m.group(2).trim());
        }
        return out;
    }
}
