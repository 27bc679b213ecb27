package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;

/**
 * Option require-exec, Apache's rule: a script without the execute bit that applies to the user who runs it (here
 * the script user nobody, while Kiln runs as root, which access(2) would let through) answers 500 with one log line
 * naming the path, the cause and the fix; with require-exec=false it runs by its #! line.
 */
class RequireExecTest {
    private static final String SCRIPT = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nran\\n'\n";
    @TempDir
    static Path temp;
    static KilnTestServer required;
    static KilnTestServer notRequired;

    @BeforeAll
    static void start() throws Exception {
        required = KilnTestServer.builder(temp.resolve("on")).start();
        notRequired = KilnTestServer.builder(temp.resolve("off")).option("require-exec", "false").start();
    }

    @AfterAll
    static void stop() throws Exception {
        required.close();
        notRequired.close();
    }

    /** The bits that count for nobody (group nogroup): owner's when it owns the file, else group's, else other's. */
    @ParameterizedTest(name = "{0} {1}:{2} -> {3}")
    @CsvSource({
        "rwxr-xr-x, root,   root,    200",
        "rw-r--r--, root,   root,    500",
        "rwxr--r--, root,   root,    500",
        "rw-r--r-x, root,   root,    200",
        "rwxr-x---, root,   nogroup, 200",
        "rwxr--r-x, root,   nogroup, 500",
        "rw-r--r--, nobody, nogroup, 500",
        "rwxr--r--, nobody, nogroup, 200",
    })
    void theExecuteBitOfTheScriptUserDecides(String mode, String owner, String group, int status) throws Exception {
        String name = "bits-" + mode.replace('-', '_') + "-" + owner + "-" + group + ".sh";
        Path script = script(required, name, mode, owner, group);
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = required.get("/cgi-bin/" + name);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
            if (status == 200) {
                assertThat(r.body()).isEqualTo("ran\n");
                return;
            }
            List<String> lines = logs.await(3000, "/cgi-bin/" + name, "500");
            assertThat(lines).as(logs.lines().toString()).hasSize(1);
            assertThat(lines.get(0)).contains(script.toString()).contains("Permission denied: exec")
                    .contains("script user nobody")
                    .contains("fix: chmod +x " + script + ", or set require-exec=false").doesNotContain("\n");
        }
    }

    @Test
    void withoutRequireExecAScriptWithoutExecuteBitsRunsByItsShebang() throws Exception {
        script(notRequired, "plain.sh", "rw-r--r--", "root", "root");
        HttpResponse<String> r = notRequired.get("/cgi-bin/plain.sh");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ran\n");
    }

    private static Path script(KilnTestServer kiln, String name, String mode, String owner, String group)
            throws Exception {
        Path script = kiln.script(name, SCRIPT);
        Commands.of("chown", owner + ":" + group, script.toString()).ok();
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString(mode));
        return script;
    }
}
