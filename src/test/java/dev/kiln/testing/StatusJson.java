package dev.kiln.testing;

/** Reads one top-level object out of {@code /kiln/status}'s JSON, so assertions look only where they mean to. */
public final class StatusJson {
    private StatusJson() {
    }

    /** The text of the object under {@code key}, braces included; fails when the key is missing. */
    public static String section(String json, String key) {
        String opening = "\n  \"" + key + "\": {";
        int start = json.indexOf(opening);
        if (start < 0) {
            throw new AssertionError("no \"" + key + "\" in status JSON:\n" + json);
        }
        start += opening.length() - 1;
        int depth = 0;
        boolean inString = false;
        for (int i = start; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return json.substring(start, i + 1);
            }
        }
        throw new AssertionError("unterminated \"" + key + "\" in status JSON:\n" + json);
    }
}
