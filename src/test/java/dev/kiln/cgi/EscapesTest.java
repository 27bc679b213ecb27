package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.ProcScan;

/**
 * A script that daemonizes (double fork, setsid: a session and process group of its own) is still found and
 * killed when its request ends: it stays in the request's cgroup.
 */
class EscapesTest extends LimitsFixture {
    @Test
    void aShellDaemonIsKilledWhenItsRequestEnds() throws Exception {
        String t = tag();
        quick.script("escape/daemon-" + t + ".sh", "#!/bin/sh\n"
                + "( setsid sleep 300.8" + t + " </dev/null >/dev/null 2>&1 & )\n"
                + "printf 'Content-Type: text/plain\\n\\nleft\\n'\n");
        HttpResponse<String> r = quick.get("/cgi-bin/escape/daemon-" + t + ".sh");
        assertThat(r.body()).isEqualTo("left\n");
        ProcScan.awaitGone("300.8" + t, Duration.ofSeconds(3));
    }

    @Test
    void aPythonDaemonIsKilledWhenItsRequestEnds() throws Exception {
        String t = tag();
        quick.script("escape/daemon-" + t + ".py", "import os, sys\n"
                + "if os.fork() == 0:\n"
                + "    os.setsid()\n"
                + "    if os.fork() == 0:\n"
                + "        fd = os.open('/dev/null', os.O_RDWR)\n"
                + "        for i in (0, 1, 2):\n"
                + "            os.dup2(fd, i)\n"
                + "        os.execv('/bin/sleep', ['sleep', '300.9" + t + "'])\n"
                + "    os._exit(0)\n"
                + "os.wait()\n"
                + "sys.stdout.write('Content-Type: text/plain\\n\\nleft\\n')\n");
        HttpResponse<String> r = quick.get("/cgi-bin/escape/daemon-" + t + ".py");
        assertThat(r.body()).isEqualTo("left\n");
        ProcScan.awaitGone("300.9" + t, Duration.ofSeconds(3));
    }
}
