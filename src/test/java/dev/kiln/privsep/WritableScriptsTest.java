package dev.kiln.privsep;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;

/**
 * suEXEC's rule: a script another user could have changed (it, or its folder, is group- or world-writable) does
 * not run, with a line naming the file and the fix, unless allow-writable-scripts says so.
 */
class WritableScriptsTest {
    private static final String HELLO = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello\\n'\n";

    @TempDir
    Path temp;

    @Test
    void aScriptOthersMayWriteIsRefusedWithTheFix() throws Exception {
        try (LogCapture logs = LogCapture.capture(); KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            Path open = kiln.script("open.sh", HELLO);
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
            Path shared = kiln.script("shared/ok.sh", HELLO);
            Files.setPosixFilePermissions(shared.getParent(), PosixFilePermissions.fromString("rwxrwxr-x"));
            kiln.script("fine.sh", HELLO);
            assertThat(kiln.get("/cgi-bin/open.sh").statusCode()).isEqualTo(403);
            assertThat(kiln.get("/cgi-bin/shared/ok.sh").statusCode()).isEqualTo(403);
            assertThat(kiln.get("/cgi-bin/fine.sh").body()).isEqualTo("hello\n");
            assertThat(logs.matching("WARN", open.toString(), "writable by users other than its owner",
                    "fix: chmod go-w " + open)).hasSize(1);
            assertThat(logs.matching("WARN", "its folder " + shared.getParent(), "fix: chmod go-w "
                    + shared.getParent())).hasSize(1);
        }
    }

    @Test
    void allowWritableScriptsRunsThemAnyway() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("allow-writable-scripts", "true").start()) {
            Path open = kiln.script("open.sh", HELLO);
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
            assertThat(kiln.get("/cgi-bin/open.sh").body()).isEqualTo("hello\n");
        }
    }
}
