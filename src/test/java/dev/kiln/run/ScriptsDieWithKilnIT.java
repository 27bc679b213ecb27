package dev.kiln.run;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnJar;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.Poll;
import dev.kiln.testing.ProcScan;

/**
 * When Kiln dies by SIGKILL, its running scripts die too, and so do the daemons they started (double fork and
 * setsid): a shell script, exec'd (the classic path), and a Python one forked by a fork-server.
 */
class ScriptsDieWithKilnIT {
    @TempDir
    Path dir;

    /** One Kiln (a jar start is the cost here): the shell script is exec'd as in classic mode, Python forked. */
    @Test
    void scriptsAndTheirDaemonsDieWithKiln() throws Exception {
        String t = Integer.toString(ThreadLocalRandom.current().nextInt(100_000, 1_000_000));
        Path scripts = dir.resolve("cgi-bin");
        KilnTestServer.writeScript(scripts, "hold.sh", "#!/bin/sh\n"
                + "( setsid sleep 300.1" + t + " </dev/null >/dev/null 2>&1 & )\n"
                + "printf 'Content-Type: text/plain\\n\\n'\nexec sleep 300.2" + t + "\n");
        KilnTestServer.writeScript(scripts, "hold.py", "import os, sys, time\n"
                + "if os.fork() == 0:\n"
                + "    os.setsid()\n"
                + "    os.execv('/bin/sleep', ['sleep', '300.3" + t + "'])\n"
                + "open(os.environ['QUERY_STRING'], 'w').write(str(os.getpid()))\n"
                + "sys.stdout.write('Content-Type: text/plain\\n\\n')\nsys.stdout.flush()\n"
                + "time.sleep(300)\n");
        HttpClient client = HttpClient.newHttpClient();
        KilnJar kiln = KilnJar.builder().in(dir).args("--scripts", scripts.toString(), "--run-mode", "forkserver").start();
        try {
            Path pidFile = KilnTestServer.scriptWritable(dir.resolve("pids")).resolve("py.pid"); // the script user's
            for (String script : new String[] {"hold.sh", "hold.py?" + pidFile}) {
                client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + kiln.port() + "/cgi-bin/"
                        + script)).build(), HttpResponse.BodyHandlers.discarding());
            }
            for (String marker : new String[] {"300.1" + t, "300.2" + t, "300.3" + t}) {
                ProcScan.awaitRunning(marker, 1, Duration.ofSeconds(10));
            }
            long python = Long.parseLong(Poll.withinMillis(5000).until("the Python script's pid",
                    () -> Files.exists(pidFile) ? Files.readString(pidFile) : "", s -> !s.isEmpty()));
            kiln.kill();
            for (String marker : new String[] {"300.1" + t, "300.2" + t, "300.3" + t}) {
                ProcScan.awaitGone(marker, Duration.ofSeconds(3));
            }
            Poll.withinMillis(3000).until("the Python script gone", () -> ProcessHandle.of(python)
                    .map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
        } finally {
            kiln.close();
        }
    }
}
