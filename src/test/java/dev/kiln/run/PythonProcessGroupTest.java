package dev.kiln.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

import dev.kiln.testing.EachRunMode;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.ProcScan;

/**
 * Python scripts start without a {@code setsid} exec: Kiln's bootstrap makes them session leaders itself.
 * Their children must still be stopped with them: on a timeout, and when the script exits leaving them.
 */
@EachRunMode
class PythonProcessGroupTest {
    @Parameter
    String runMode;
    @TempDir
    Path temp;

    @Test
    void timeoutKillsAPythonScriptAndItsChildren() throws Exception {
        String marker = "300." + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).option("idle-timeout", "1s")
                .option("kill-grace", "300ms").start()) {
            kiln.script("spawner.py", "#!/usr/bin/python3\nimport os, subprocess, time\n"
                    + "assert os.getpgid(0) == os.getpid() == os.getsid(0), 'not a session leader'\n"
                    + "subprocess.Popen(['sleep', '" + marker + "'])\n"
                    + "time.sleep(60)\n");
            HttpResponse<String> r = kiln.get("/cgi-bin/spawner.py");
            assertThat(r.statusCode()).isEqualTo(504);
            ProcScan.awaitGone(marker, Duration.ofSeconds(5));
        }
    }

    @Test
    void childrenLeftBehindByAPythonScriptAreKilled() throws Exception {
        String marker = "300." + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).start()) {
            kiln.script("leaver.py", "#!/usr/bin/python3\nimport subprocess, sys\n"
                    + "subprocess.Popen(['sleep', '" + marker + "'], stdout=subprocess.DEVNULL, "
                    + "stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)\n"
                    + "print('Content-Type: text/plain\\n\\nleft one behind')\n");
            HttpResponse<String> r = kiln.get("/cgi-bin/leaver.py");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body().strip()).isEqualTo("left one behind");
            ProcScan.awaitGone(marker, Duration.ofSeconds(5));
        }
    }
}
