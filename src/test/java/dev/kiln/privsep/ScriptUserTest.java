package dev.kiln.privsep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

import dev.kiln.config.ConfigException;
import dev.kiln.testing.EachRunMode;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;

/**
 * Kiln runs as root here (as in CI): every script runs as the script user, never as root, in every run mode, and
 * what it would need to become root again is gone.
 */
@EachRunMode
class ScriptUserTest {
    @Parameter
    String runMode;

    @TempDir
    Path temp;

    private KilnTestServer.Builder builder() {
        return KilnTestServer.builder(temp).runMode(runMode);
    }

    @Test
    void aScriptCannotReadARootOnlyFile() throws Exception {
        Path secret = Files.writeString(temp.resolve("secret.txt"), "root-only-content\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        try (KilnTestServer kiln = builder().start()) {
            kiln.script("steal.py", "#!/usr/bin/python3\nimport os\nprint('Content-Type: text/plain\\n')\n"
                    + "print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups())\n"
                    + "try:\n    print(open(" + pyString(secret) + ").read())\nexcept OSError as e:\n"
                    + "    print('refused', e.errno)\n"
                    + "try:\n    os.setuid(0)\n    print('became root')\nexcept OSError as e:\n"
                    + "    print('setuid refused', e.errno)\n"
                    + "print([l.split()[1] for l in open('/proc/self/status') if l.startswith(('CapPrm', 'CapEff', "
                    + "'CapAmb'))])\n");
            kiln.script("steal.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nid -u\ncat "
                    + secret + " 2>&1 || echo refused\n");
            HttpResponse<String> py = kiln.get("/cgi-bin/steal.py");
            assertThat(py.statusCode()).isEqualTo(200);
            assertThat(py.body()).doesNotContain("root-only-content").doesNotContain("became root")
                    .contains("65534 65534 65534 [65534]").contains("refused 13").contains("setuid refused 1")
                    .contains("['0000000000000000', '0000000000000000', '0000000000000000']");
            HttpResponse<String> sh = kiln.get("/cgi-bin/steal.sh");
            assertThat(sh.body()).startsWith("65534\n").doesNotContain("root-only-content").contains("refused");
        }
    }

    @Test
    void scriptUserRootIsRefusedAtStartWithWhy() {
        assertThatThrownBy(() -> builder().option("script-user", "root").start())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("script-user root").hasMessageContaining("would run as root")
                .hasMessageContaining("fix:");
        assertThatThrownBy(() -> builder().option("script-user", "nobody").option("script-group", "root").start())
                .isInstanceOf(ConfigException.class).hasMessageContaining("group 0");
    }

    @Test
    void aScriptsFolderTheScriptUserCannotReachStopsKilnWithTheFix() throws Exception {
        Path hidden = Files.createDirectories(temp.resolve("private"));
        Files.setPosixFilePermissions(hidden, PosixFilePermissions.fromString("rwx------"));
        assertThatThrownBy(() -> builder().option("scripts", hidden.resolve("cgi-bin").toString()).start())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("script-user nobody cannot reach").hasMessageContaining(hidden.toString())
                .hasMessageContaining("fix:");
    }

    @Test
    void anInterpreterTheScriptUserCannotRunStopsKilnWithTheFix() throws Exception {
        Path bin = Files.createDirectories(temp.resolve("rootbin"));
        Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwx------"));
        Path python = Files.copy(Path.of(KilnTestServer.DEBIAN_PYTHON).toRealPath(), bin.resolve("python3"));
        assertThatThrownBy(() -> builder().option("python", python.toString()).start())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot reach").hasMessageContaining("fix:");
    }

    @Test
    void theStartupLogSaysWhoScriptsRunAs() throws Exception {
        try (LogCapture logs = LogCapture.capture(); KilnTestServer kiln = builder().start()) {
            assertThat(logs.matching("INFO", "scripts run as nobody (uid 65534 gid 65534")).hasSize(1);
        }
    }

    static String pyString(Path p) {
        return "'" + p.toString().replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
