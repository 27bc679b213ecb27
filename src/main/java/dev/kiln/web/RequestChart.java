package dev.kiln.web;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

import dev.kiln.metrics.MinuteRequests;

/**
 * The last hour as an inline SVG, drawn on the server from Kiln's own counters (no script, no CDN): a bar per
 * minute for requests (5xx in red on top), and a line for the mean latency on its own scale.
 */
final class RequestChart {
    private static final int WIDTH = 720;
    private static final int HEIGHT = 180;
    private static final int PAD = 30;
    private static final DateTimeFormatter HHMM = DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private RequestChart() {
    }

    static String svg(List<MinuteRequests> minutes) {
        long maxRequests = Math.max(1, minutes.stream().mapToLong(MinuteRequests::requests).max().orElse(1));
        double maxLatency = minutes.stream().mapToDouble(MinuteRequests::meanSeconds).max().orElse(0);
        double slot = (WIDTH - 2.0 * PAD) / minutes.size();
        double plot = HEIGHT - 2.0 * PAD;
        StringBuilder b = new StringBuilder(8192);
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"chart\" width=\"").append(WIDTH)
                .append("\" height=\"").append(HEIGHT).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ')
                .append(HEIGHT).append("\" role=\"img\" aria-label=\"requests and latency, last hour\">\n")
                .append("<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#fafafa\"/>\n");
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < minutes.size(); i++) {
            MinuteRequests m = minutes.get(i);
            double x = PAD + i * slot;
            double h = plot * m.requests() / maxRequests;
            double e = plot * m.errors() / maxRequests;
            String title = HHMM.format(Instant.ofEpochSecond(m.epochMinute() * 60)) + " UTC: " + m.requests()
                    + " requests, " + m.errors() + " errors, mean " + StatusServlet.millis(m.meanSeconds()) + " ms";
            b.append("<g><title>").append(title).append("</title>")
                    .append(rect(x, HEIGHT - PAD - h, slot - 1, h - e, "#4a7ebb"))
                    .append(rect(x, HEIGHT - PAD - e, slot - 1, e, "#c0392b")).append("</g>\n");
            if (maxLatency > 0) {
                double y = HEIGHT - PAD - plot * m.meanSeconds() / maxLatency;
                line.append(line.isEmpty() ? "" : " ").append(num(x + slot / 2)).append(',').append(num(y));
            }
        }
        if (!line.isEmpty()) {
            b.append("<polyline fill=\"none\" stroke=\"#e67e22\" stroke-width=\"2\" points=\"").append(line)
                    .append("\"/>\n");
        }
        b.append(text(PAD, 18, "#4a7ebb", "requests per minute (top: " + maxRequests + ")"))
                .append(text(WIDTH / 2, 18, "#e67e22", "mean latency (top: " + StatusServlet.millis(maxLatency)
                        + " ms)"))
                .append(text(PAD, HEIGHT - 8, "#555", HHMM.format(Instant.ofEpochSecond(minutes.get(0).epochMinute()
                        * 60)) + " UTC"))
                .append(text(WIDTH - PAD - 60, HEIGHT - 8, "#555", "now"))
                .append("<line x1=\"").append(PAD).append("\" y1=\"").append(HEIGHT - PAD).append("\" x2=\"")
                .append(WIDTH - PAD).append("\" y2=\"").append(HEIGHT - PAD).append("\" stroke=\"#999\"/>\n")
                .append("</svg>\n");
        return b.toString();
    }

    private static String rect(double x, double y, double w, double h, String fill) {
        if (h <= 0) {
            return "";
        }
        return "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" + num(h)
                + "\" fill=\"" + fill + "\"/>";
    }

    private static String text(int x, int y, String fill, String s) {
        return "<text x=\"" + x + "\" y=\"" + y + "\" fill=\"" + fill + "\" font-size=\"12\">" + s + "</text>\n";
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
