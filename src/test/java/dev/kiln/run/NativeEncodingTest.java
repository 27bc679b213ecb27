package dev.kiln.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A JVM whose native encoding is ASCII (Kiln under LANG=C) still hands scripts exact bytes: the decoder runs in a
 * real /bin/sh here, and the child prints what it received as hex.
 */
class NativeEncodingTest {
    private static final String DUMP = "printf '%s' \"$V\" | od -An -tx1 | tr -d ' \\n'; printf '|';"
            + " printf '%s' \"$1\" | od -An -tx1 | tr -d ' \\n'";

    @ParameterizedTest(name = "\"{0}\" arrives byte-exact")
    @ValueSource(strings = {"café/✓", "a b", "back\\slash", "\\0101 not an escape", "100%", "trailing newline\n\n",
        "tab\tand\u0001control", "😀 astral", "$HOME `id` 'q' \"dq\"", "-n", ""})
    void valueAndArgumentArriveExactly(String value) throws Exception {
        NativeEncoding ascii = new NativeEncoding("ANSI_X3.4-1968");
        Map<String, String> env = new HashMap<>(Map.of("V", value + "é", "PATH", "/usr/bin:/bin"));
        List<String> cmd = ascii.exact(new ArrayList<>(List.of("/bin/sh", "-c", DUMP, "sh", value + "é")), env);
        assertThat(String.join("", cmd)).as("only ASCII reaches the JVM's encoder").matches("\\p{ASCII}*");
        assertThat(env).doesNotContainKey("V").containsEntry("PATH", "/usr/bin:/bin");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(p.waitFor()).isZero();
        String hex = HexFormat.of().formatHex((value + "é").getBytes(StandardCharsets.UTF_8));
        assertThat(out).isEqualTo(hex + "|" + hex);
    }

    @Test
    void nothingChangesWhenTheJvmSpeaksUtf8OrTheCommandIsAscii() {
        List<String> cmd = List.of("/bin/sh", "x.sh", "café");
        assertThat(new NativeEncoding("UTF-8").exact(cmd, new HashMap<>(Map.of("V", "é")))).isSameAs(cmd);
        List<String> ascii = List.of("/bin/sh", "x.sh");
        assertThat(new NativeEncoding("US-ASCII").exact(ascii, new HashMap<>(Map.of("V", "plain")))).isSameAs(ascii);
    }
}
