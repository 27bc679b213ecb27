package dev.kiln.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The options set by {@code KILN_*} environment variables. Others starting {@code KILN_} are not fatal: the
 * caller warns once, naming them ({@code KILN_HOME} is a common one). Kubernetes service links, which a Service
 * named {@code kiln} injects into every pod ({@code KILN_SERVICE_HOST}, {@code KILN_PORT=tcp://...},
 * {@code KILN_PORT_8080_TCP...}), are recognised and ignored quietly.
 *
 * @param options the options, by key
 * @param unknown names that are neither options nor service links, sorted
 */
public record EnvironmentOptions(Map<String, String> options, List<String> unknown) {
    private static final Pattern SERVICE_LINK = Pattern.compile(
            "KILN_SERVICE_HOST|KILN_SERVICE_PORT(_[A-Z0-9_]+)?|KILN_PORT_\\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?");
    private static final Pattern LINK_VALUE = Pattern.compile("(tcp|udp|sctp)://.*");

    public static EnvironmentOptions of(Map<String, String> env) {
        Map<String, String> options = new TreeMap<>();
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            boolean notAnOption = name.equals(Option.CONFIG.envName()) || isServiceLink(name, e.getValue());
            if (!name.startsWith("KILN_") || notAnOption) {
                continue;
            }
            Option match = null;
            for (Option o : Option.values()) {
                if (o.envName().equals(name)) {
                    match = o;
                }
            }
            if (match == null) {
                unknown.add(name);
            } else {
                options.put(match.key(), e.getValue());
            }
        }
        return new EnvironmentOptions(Map.copyOf(options), List.copyOf(unknown));
    }

    static boolean isServiceLink(String name, String value) {
        return SERVICE_LINK.matcher(name).matches()
                || (name.equals(Option.PORT.envName()) && LINK_VALUE.matcher(value.trim()).matches());
    }

    /** The one warning for the unknown names, or null when there are none. */
    public String warning() {
        if (unknown.isEmpty()) {
            return null;
        }
        return "ignoring environment variable" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
                + ": not Kiln options (KILN_<OPTION>, see --help); fix: rename or unset "
                + (unknown.size() > 1 ? "them" : "it") + " if they were meant for Kiln";
    }
}
