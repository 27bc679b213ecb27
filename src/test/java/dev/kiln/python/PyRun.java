package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** One finished python3 run, and what Kiln's runtime reported on stderr (lines behind {@link #MARKER}). */
record PyRun(int exit, String stdout, String stderr) {
    static final String MARKER = LoaderProtocol.MARKER;
    private static final Pattern FIELD = Pattern.compile("(\\w+)=(\\d+)");

    /** Kiln's marker lines of one kind, without the marker. */
    List<String> markers(String kind) {
        return stderr.lines().filter(l -> l.startsWith(MARKER + kind + " "))
                .map(l -> l.substring(MARKER.length())).collect(Collectors.toList());
    }

    /** The one stats line: compiled, cached, shipped, compile_us. */
    Map<String, Long> stats() {
        List<String> lines = markers("stats");
        assertThat(lines).as("one stats line in " + stderr).hasSize(1);
        Map<String, Long> out = new LinkedHashMap<>();
        Matcher m = FIELD.matcher(lines.get(0));
        while (m.find()) {
            out.put(m.group(1), Long.parseLong(m.group(2)));
        }
        assertThat(out).containsOnlyKeys("compiled", "cached", "shipped", "compile_us");
        return out;
    }

    /** stderr without Kiln's own marker lines. */
    String userStderr() {
        return stderr.lines().filter(l -> !l.startsWith(MARKER))
                .map(l -> l + "\n").collect(Collectors.joining());
    }
}
