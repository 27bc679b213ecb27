package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.testing.Json;
import dev.kiln.testing.KilnJar;
import dev.kiln.testing.KilnTestServer;

/**
 * Kiln started with signals ignored, as {@code nohup} (SIGHUP) and a shell script's background job (SIGINT,
 * SIGQUIT) start it: scripts still get default dispositions, as mod_cgid's do, and a Python script what a fresh
 * {@code python3} started that way has (SIGPIPE and SIGXFSZ ignored, SIGINT raising KeyboardInterrupt).
 */
class IgnoredSignalsIT {
    /** A process started with every disposition at its default ignores nothing; CPython then ignores these two. */
    private static final long PYTHON_IGNORES = 1L << (13 - 1) | 1L << (25 - 1);  // SIGPIPE, SIGXFSZ
    private static final long SIGNALS_1_TO_31 = 0x7fffffffL;
    private static final long HUP_INT = 0b11L;   // signals 1 and 2 (the JVM handles SIGQUIT itself)
    private static final String SH = "#!/bin/sh\nprintf 'Content-Type: application/json\\n\\n'\n"
            + "while read -r k v; do case $k in SigIgn:) ign=$v;; esac; done < /proc/$$/status\n"
            + "printf '{\"ignored\":\"%s\"}' $ign\n";
    private static final String PY = "#!/usr/bin/python3\nimport json, signal\n"
            + "print('Content-Type: application/json\\n')\n"
            + "ign = open('/proc/self/status').read().split('SigIgn:')[1].split()[0]\n"
            + "print(json.dumps({'ignored': ign,"
            + " 'sigint': str(signal.getsignal(signal.SIGINT) is signal.default_int_handler),"
            + " 'sighup': str(signal.getsignal(signal.SIGHUP) == signal.SIG_DFL)}))\n";

    @TempDir
    Path temp;

    @ParameterizedTest(name = "run-mode={0}")
    @ValueSource(strings = {"classic", "forkserver"})
    void scriptsDoNotInheritWhatKilnIgnores(String runMode) throws Exception {
        Path scripts = temp.resolve("cgi-bin");
        KilnTestServer.writeScript(scripts, "show.sh", SH);
        KilnTestServer.writeScript(scripts, "show.py", PY);
        KilnJar.Builder b = KilnJar.builder().in(temp)
                .through(List.of("/bin/sh", "-c", "trap '' HUP INT QUIT; exec \"$@\"", "ignoring"))
                .args("--scripts", scripts.toString(), "--cache", temp.resolve("cache").toString(),
                        "--run-mode", runMode);
        try (KilnJar kiln = b.start()) {
            assertThat(Long.parseLong(ignoredBy(kiln.pid()), 16) & HUP_INT)
                    .as("Kiln itself ignores SIGHUP and SIGINT (the test's premise)").isEqualTo(HUP_INT);
            Map<String, String> sh = Json.strings(kiln.getOk("/cgi-bin/show.sh"));
            assertThat(Long.parseLong(sh.get("ignored"), 16) & SIGNALS_1_TO_31).as("a shell script ignores")
                    .isZero();
            Map<String, String> py = Json.strings(kiln.getOk("/cgi-bin/show.py"));
            assertThat(Long.parseLong(py.get("ignored"), 16) & SIGNALS_1_TO_31).as("a Python script ignores")
                    .isEqualTo(PYTHON_IGNORES);
            assertThat(py).containsEntry("sigint", "True").containsEntry("sighup", "True");
        }
    }

    private static String ignoredBy(long pid) throws Exception {
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        return status.split("SigIgn:")[1].trim().split("\\s+")[0];
    }
}
