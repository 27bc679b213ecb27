package dev.kiln.python;

import java.util.HashMap;
import java.util.Map;

/** Reads the one-level JSON objects Kiln's precompiler prints, one per line (strings, numbers, null). */
final class PrecompileEvents {
    private PrecompileEvents() {
    }

    /** @return the fields, values as strings (null for JSON null); empty when the line is not an object */
    static Map<String, String> parse(String line) {
        Map<String, String> out = new HashMap<>();
        String s = line.strip();
        if (!s.startsWith("{") || !s.endsWith("}")) {
            return out;
        }
        int[] pos = {1};
        while (true) {
            skipSpace(s, pos);
            if (pos[0] >= s.length() - 1 || s.charAt(pos[0]) != '"') {
                return out;
            }
            String key = string(s, pos);
            skipSpace(s, pos);
            pos[0]++; // ':'
            skipSpace(s, pos);
            String value;
            if (s.charAt(pos[0]) == '"') {
                value = string(s, pos);
            } else {
                int start = pos[0];
                while (pos[0] < s.length() && ",}".indexOf(s.charAt(pos[0])) < 0) {
                    pos[0]++;
                }
                String raw = s.substring(start, pos[0]).strip();
                value = raw.equals("null") ? null : raw;
            }
            out.put(key, value);
            skipSpace(s, pos);
            if (pos[0] < s.length() && s.charAt(pos[0]) == ',') {
                pos[0]++;
            }
        }
    }

    private static void skipSpace(String s, int[] pos) {
        while (pos[0] < s.length() && Character.isWhitespace(s.charAt(pos[0]))) {
            pos[0]++;
        }
    }

    private static String string(String s, int[] pos) {
        StringBuilder b = new StringBuilder();
        int i = pos[0] + 1;
        while (i < s.length() && s.charAt(i) != '"') {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char e = s.charAt(++i);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            } else {
                b.append(c);
            }
            i++;
        }
        pos[0] = i + 1;
        return b.toString();
    }
}
