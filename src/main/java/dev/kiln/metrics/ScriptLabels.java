package dev.kiln.metrics;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The script names metrics are labelled with: the first {@code cap} distinct ones as they are, every later one
 * as {@link #OTHER}, so a scan of many URLs cannot grow the series without bound.
 */
public final class ScriptLabels {
    public static final String OTHER = "other";
    /** Requests that named no script (404s, refusals before a script was found). */
    public static final String NONE = "none";

    private final int cap;
    private final Set<String> known = ConcurrentHashMap.newKeySet();

    public ScriptLabels(int cap) {
        this.cap = cap;
    }

    public String label(String script) {
        if (script == null || script.isEmpty()) {
            return NONE;
        }
        if (known.contains(script)) {
            return script;
        }
        synchronized (known) {
            if (known.size() < cap) {
                known.add(script);
                return script;
            }
        }
        return known.contains(script) ? script : OTHER;
    }
}
