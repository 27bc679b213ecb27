package dev.kiln.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsers for option values; each failure names the option, the bad value and what is accepted. */
final class Values {
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");
    private static final Pattern SIZE = Pattern.compile("(\\d+)([kmg])?i?b?");

    private Values() {
    }

    static ConfigException bad(Option option, String source, String value, String accepted) {
        return new ConfigException("invalid value '" + value + "' for " + option.key() + " (from " + source
                + "): expected " + accepted);
    }

    static Duration duration(Option option, String source, String raw) {
        Matcher m = DURATION.matcher(raw.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw bad(option, source, raw, "a duration such as 500ms, 30s, 5m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        if (m.group(2) == null && n != 0) {
            // 30 could be seconds or (Tomcat's stderrTimeout) milliseconds: never guess
            throw bad(option, source, raw, "a duration, which needs a unit: 500ms, 30s, 5m or 1h");
        }
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
    }

    static long size(Option option, String source, String raw) {
        Matcher m = SIZE.matcher(raw.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw bad(option, source, raw, "a size in bytes, optionally with k, m or g (for example 64k, 256m)");
        }
        long n = Long.parseLong(m.group(1));
        int shift = m.group(2) == null ? 0 : switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            default -> 30;
        };
        return n << shift;
    }

    static int integer(Option option, String source, String raw, int min, int max) {
        try {
            int n = Integer.parseInt(raw.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw bad(option, source, raw, "a whole number from " + min + " to " + max);
    }

    static boolean bool(Option option, String source, String raw) {
        return switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw bad(option, source, raw, "true or false");
        };
    }
}
