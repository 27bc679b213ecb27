package dev.kiln.run;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The JVM hands a child's environment and arguments over in its native encoding ({@code sun.jnu.encoding}),
 * which comes from Kiln's own locale. Under {@code LANG=C}, or with no locale at all (Debian's apache2 envvars,
 * any systemd service without {@code Environment=LANG=}), that is ASCII, and every other character reaches the
 * script as '?'. When that is so and a command needs it, the values travel octal-escaped to a {@code /bin/sh}
 * that decodes them with its {@code printf %b} and execs the command, so every byte arrives as sent. Values
 * holding bytes that are not UTF-8 ({@link EnvironmentBytes}) travel that way in any locale.
 */
final class NativeEncoding {
    /**
     * Decodes "$1" pairs of NAME and escaped VALUE into the environment, then every remaining argument, then
     * execs them. {@code printf '%bx'} keeps trailing newlines that command substitution would strip.
     */
    private static final String DECODER = "n=$1; shift; "
            + "while [ \"$n\" -gt 0 ]; do v=$(printf '%bx' \"$2\"); export \"$1=${v%x}\"; shift 2; n=$((n-1)); done; "
            + "for a; do shift; a=$(printf '%bx' \"$a\"); set -- \"$@\" \"${a%x}\"; done; exec \"$@\"";

    private final boolean lossy;

    /** @param jnuEncoding the JVM's {@code sun.jnu.encoding} */
    NativeEncoding(String jnuEncoding) {
        Charset cs;
        try {
            cs = Charset.forName(jnuEncoding);
        } catch (RuntimeException e) {
            cs = StandardCharsets.US_ASCII;
        }
        this.lossy = !cs.equals(StandardCharsets.UTF_8);
    }

    static NativeEncoding ofThisJvm() {
        return new NativeEncoding(System.getProperty("sun.jnu.encoding", "UTF-8"));
    }

    /**
     * The command to start so that {@code cmd} runs with exactly {@code env}; moves what the JVM would mangle
     * out of {@code env} into the decoder's arguments. Unchanged (no extra exec) when nothing needs it.
     */
    List<String> exact(List<String> cmd, Map<String, String> env) {
        if ((!lossy || (cmd.stream().allMatch(NativeEncoding::ascii)
                && env.values().stream().allMatch(NativeEncoding::ascii)
                && env.keySet().stream().allMatch(NativeEncoding::ascii)))
                && env.values().stream().noneMatch(EnvironmentBytes::hasEscapes)) {
            return cmd;
        }
        List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c", DECODER, "sh"));
        List<String> pairs = new ArrayList<>();
        for (Iterator<Map.Entry<String, String>> it = env.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, String> e = it.next();
            boolean mangled = lossy && (!ascii(e.getKey()) || !ascii(e.getValue()));
            if (mangled || EnvironmentBytes.hasEscapes(e.getValue())) {
                pairs.add(escape(e.getKey()));
                pairs.add(escape(e.getValue()));
                it.remove();
            }
        }
        wrapped.add(Integer.toString(pairs.size() / 2));
        wrapped.addAll(pairs);
        cmd.forEach(a -> wrapped.add(escape(a)));
        return wrapped;
    }

    private static boolean ascii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /**
     * The value's bytes ({@link EnvironmentBytes}), with every byte outside printable ASCII, and the backslash,
     * as {@code \0NNN}.
     */
    static String escape(String s) {
        byte[] bytes = EnvironmentBytes.encode(s);
        StringBuilder b = new StringBuilder(bytes.length + 16);
        for (byte x : bytes) {
            int v = x & 0xff;
            if (v >= 0x20 && v < 0x7f && v != '\\') {
                b.append((char) v);
            } else {
                b.append("\\0").append(Integer.toOctalString(v));
            }
        }
        return b.toString();
    }
}
