package dev.kiln.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Metrics text read by a real parser: the Prometheus project's Python client ({@code prometheus_client.parser}
 * for the Prometheus text format, {@code prometheus_client.openmetrics.parser} for OpenMetrics; Debian's
 * python3-prometheus-client). The parser throws on anything a Prometheus server would refuse.
 */
public final class PrometheusText {
    private static final String PARSE = String.join("\n",
            "import json, math, sys",
            "if sys.argv[1] == 'openmetrics':",
            "    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse",
            "else:",
            "    from prometheus_client.parser import text_string_to_metric_families as parse",
            "out = []",
            "for f in parse(sys.stdin.read()):",
            "    for s in f.samples:",
            "        v = s.value if math.isfinite(s.value) else None",
            "        out.append({'family': f.name, 'type': f.type, 'name': s.name, 'labels': s.labels, 'value': v})",
            "print(json.dumps(out))");

    /** One sample: its family and type as the parser saw them, its name, labels and value (NaN for +Inf). */
    public record Sample(String family, String type, String name, Map<String, String> labels, double value) {
    }

    private PrometheusText() {
    }

    public static List<Sample> parse(String text, boolean openMetrics) throws Exception {
        Process p = new ProcessBuilder(KilnTestServer.DEBIAN_PYTHON, "-c", PARSE,
                openMetrics ? "openmetrics" : "prometheus").redirectErrorStream(false).start();
        p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("the Prometheus parser refused the metrics: " + err + "\n" + text);
        }
        List<Sample> samples = new ArrayList<>();
        for (JsonNode s : Json.tree(out)) {
            Map<String, String> labels = new LinkedHashMap<>();
            s.path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
            double v = s.path("value").isNull() ? Double.NaN : s.path("value").asDouble();
            samples.add(new Sample(s.path("family").asText(), s.path("type").asText(), s.path("name").asText(),
                    labels, v));
        }
        return samples;
    }

    /** The value of the one sample with this name and these labels (others may be present). */
    public static double value(List<Sample> samples, String name, String... labelPairs) {
        List<Sample> found = samples.stream().filter(s -> s.name().equals(name)).filter(s -> {
            for (int i = 0; i < labelPairs.length; i += 2) {
                if (!labelPairs[i + 1].equals(s.labels().get(labelPairs[i]))) {
                    return false;
                }
            }
            return true;
        }).toList();
        if (found.size() != 1) {
            throw new AssertionError(found.size() + " samples " + name + " " + List.of(labelPairs) + " in " + samples);
        }
        return found.get(0).value();
    }
}
