package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.LogCapture;

/** A script's stderr: logged line by line under the script's logger, cut at max-stderr-line, never sent. */
class StderrTest extends LimitsFixture {
    @Test
    void stderrBeforeHeadersIs500WithItsTailLogged() throws Exception {
        String t = tag();
        quick.script("fail/die-" + t + ".pl", "#!/usr/bin/perl\n"
                + "print STDERR \"starting up\\n\";\n"
                + "print STDERR \"fatal-" + t + ": cannot open config\\n\";\n"
                + "exit 3;\n");
        String path = "/cgi-bin/fail/die-" + t + ".pl";
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = quick.get(path);
            assertThat(r.statusCode()).isEqualTo(500);
            assertShortErrorPage(r, 500, path);
            assertThat(r.body()).doesNotContain("fatal-" + t).doesNotContain("cannot open config");
            List<String> lines = logs.await(3000, "WARN [kiln.", path, "500", "fatal-" + t + ": cannot open config");
            assertThat(lines).as(logs.lines().toString()).hasSize(1);
            assertThat(lines.get(0)).contains("starting up").doesNotContain("\n");
            assertThat(logs.matching("fatal-" + t)).as("the stderr is logged once, in the WARN").hasSize(1);
            assertThat(logs.matching("starting up")).hasSize(1);
        }
    }

    @Test
    void eachStderrLineIsItsOwnLogLineUnderTheScriptsLogger() throws Exception {
        String t = tag();
        quick.script("logs/talk-" + t + ".sh", "#!/bin/sh\n"
                + "echo 'alpha-" + t + "' >&2\n"
                + "echo 'beta-" + t + " second line' >&2\n"
                + "printf 'Content-Type: text/plain\\n\\nok\\n'\n");
        String logger = "[kiln.script.logs/talk-" + t + ".sh] ";
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = quick.get("/cgi-bin/logs/talk-" + t + ".sh");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok\n");
            logs.await(3000, logger + "beta-" + t);
            List<String> mine = logs.matching(logger);
            assertThat(mine).extracting(LimitsFixture::afterLevel)
                    .containsExactly(logger + "alpha-" + t, logger + "beta-" + t + " second line");
        }
    }

    @Test
    void anOverlongStderrLineIsCutAtMaxStderrLine() throws Exception {
        String t = tag();
        quick.script("logs/long-" + t + ".py", "#!" + PY + "\n"
                + "import sys\n"
                + "sys.stderr.write('L" + t + "' + 'x' * 5000 + 'END-OF-LONG\\n')\n"
                + "sys.stderr.write('after-" + t + "\\n')\n"
                + "sys.stderr.flush()\n"
                + "print('Content-Type: text/plain\\n\\nok')\n");
        String logger = "[kiln.script.logs/long-" + t + ".py] ";
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = quick.get("/cgi-bin/logs/long-" + t + ".py");
            assertThat(r.statusCode()).isEqualTo(200);
            logs.await(3000, logger + "after-" + t);
            List<String> mine = logs.matching(logger);
            assertThat(mine).as(mine.toString()).hasSize(2);
            String cut = afterLevel(mine.get(0)).substring(logger.length());
            assertThat(cut).startsWith("L" + t + "x".repeat(50)).doesNotContain("END-OF-LONG")
                    .doesNotContain("x".repeat(100));
            assertThat(cut.length()).isLessThan(100 + 60);
            assertThat(afterLevel(mine.get(1))).isEqualTo(logger + "after-" + t);
        }
    }

    /**
     * More stderr than a socket holds, before the headers, between body chunks and after stdout is closed: each
     * part is drained while Kiln waits for the next (in fork-server mode by the thread reading stdout), so the
     * script never stalls on it, and every line is logged.
     */
    @Test
    void stderrLargerThanASocketBufferInEveryPhaseIsDrainedAndLoggedWhole() throws Exception {
        String t = tag();
        quick.script("logs/flood-" + t + ".py", "#!" + PY + "\n"
                + "import os, sys, time\n"
                + "pad = 'e' * 60\n"
                + "def flood(phase):\n"
                + "    for i in range(4000):\n"
                + "        sys.stderr.write('%s-%d %s\\n' % (phase, i, pad))\n"
                + "    sys.stderr.flush()\n"
                + "flood('pre')\n"
                + "sys.stdout.write('Content-Type: text/plain\\n\\n'); sys.stdout.flush()\n"
                + "for i in range(4000):\n"
                + "    sys.stderr.write('mid-%d %s\\n' % (i, pad))\n"
                + "    if i % 500 == 0:\n"
                + "        sys.stdout.write('chunk %d\\n' % i); sys.stdout.flush()\n"
                + "sys.stdout.write('end\\n'); sys.stdout.flush()\n"
                + "os.close(1)\n"
                + "time.sleep(0.1)\n"        // longer than a pause: Kiln is waiting for the exit by then
                + "flood('post')\n"
                + "sys.stderr.write('last-" + t + "\\n')\n");
        String logger = "[kiln.script.logs/flood-" + t + ".py] ";
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = quick.get("/cgi-bin/logs/flood-" + t + ".py");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).startsWith("chunk 0\n").endsWith("chunk 3500\nend\n");
            logs.await(5000, logger + "last-" + t);
            List<String> mine = logs.matching(logger);
            assertThat(mine).hasSize(3 * 4000 + 1);
            for (String phase : List.of("pre", "mid", "post")) {
                assertThat(logs.matching(logger + phase + "-3999 ")).as(phase).hasSize(1);
            }
            assertThat(logs.matching("WARN")).as("not stopped, nothing aborted").isEmpty();
        }
    }
}
