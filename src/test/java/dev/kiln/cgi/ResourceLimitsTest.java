package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.Poll;
import dev.kiln.testing.ProcScan;

/**
 * Resource limits in both run modes, Python and shell alike: a fork bomb stops at rlimit-nproc, a 4 GiB allocation
 * fails, an endless loop ends at rlimit-cpu, a file stops growing at rlimit-fsize, and no core is dumped. Each
 * script is bounded on its own too, so a broken limit fails the test instead of the machine. A script killed by
 * SIGKILL (exit 137) is logged with who killed it, when Kiln can tell: the OOM killer, or not Kiln at all.
 */
class ResourceLimitsTest extends LimitsFixture {
    static final int NPROC = 12;
    KilnTestServer tight;

    @BeforeParameterizedClassInvocation(injectArguments = false)
    void startTight() throws Exception {
        tight = builder(temp.resolve("tight"))
                .option("rlimit-nproc", Integer.toString(NPROC))
                .option("rlimit-mem", "256m")
                .option("rlimit-cpu", "1s")
                .option("rlimit-fsize", "1m")
                .option("rlimit-nofile", "64")
                .option("timeout", "30s")
                .start();
        tight.script("hello.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello\\n'\n");
    }

    @AfterParameterizedClassInvocation
    void stopTight() throws Exception {
        if (tight != null) {
            tight.close();
        }
    }

    @Test
    void everyLimitIsInForceInTheScript() throws Exception {
        tight.script("limits/show.py", "import sys\nsys.stdout.write('Content-Type: text/plain\\n\\n')\n"
                + "sys.stdout.write(open('/proc/self/limits').read())\n");
        HttpResponse<String> r = tight.get("/cgi-bin/limits/show.py");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).containsPattern("Max cpu time +1 +2 +seconds")
                .containsPattern("Max data size +268435456 +268435456 +bytes")
                .containsPattern("Max file size +1048576 +1048576 +bytes")
                .containsPattern("Max open files +64 +64 +files")
                .containsPattern("Max core file size +0 +0 +bytes");
    }

    @Test
    void aForkBombStopsAtItsLimitAndTheServerStillServes() throws Exception {
        String t = tag();
        // up to 200 children, each a sleep the test can find; the script reports how many it got, then exits
        tight.script("limits/bomb-" + t + ".py", "import os, sys, time\n"
                + "ok = refused = 0\n"
                + "for _ in range(200):\n"
                + "    try:\n"
                + "        pid = os.fork()\n"
                + "    except OSError:\n"
                + "        refused += 1\n"
                + "        continue\n"
                + "    if pid == 0:\n"
                + "        os.execv('/bin/sleep', ['sleep', '300.7" + t + "'])\n"
                + "    ok += 1\n"
                + "time.sleep(1)\n"
                + "sys.stdout.write('Content-Type: text/plain\\n\\n%d %d\\n' % (ok, refused))\n");
        try (LogCapture logs = LogCapture.capture()) {
            CompletableFuture<HttpResponse<String>> bomb = tight.client().sendAsync(
                    get(tight, "/cgi-bin/limits/bomb-" + t + ".py"), HttpResponse.BodyHandlers.ofString());
            ProcScan.awaitRunning("300.7" + t, NPROC - 1, Duration.ofSeconds(5));
            HttpResponse<String> other = tight.get("/cgi-bin/hello.sh");
            assertThat(other.body()).as("another request while the bomb holds its limit").isEqualTo("hello\n");
            HttpResponse<String> r = bomb.get();
            assertThat(r.statusCode()).isEqualTo(200);
            String[] counts = r.body().strip().split(" ");
            assertThat(Integer.parseInt(counts[0])).as("children started").isEqualTo(NPROC - 1);
            assertThat(Integer.parseInt(counts[1])).as("forks refused").isEqualTo(200 - (NPROC - 1));
            ProcScan.awaitGone("300.7" + t, Duration.ofSeconds(3));
            assertThat(logs.await(3000, "bomb-" + t, "reached rlimit-nproc, " + NPROC + " processes")).isNotEmpty();
        }
    }

    @Test
    void aFourGibAllocationFails() throws Exception {
        tight.script("limits/alloc.py", "import sys\n"
                + "try:\n"
                + "    b = bytearray(4 << 30)\n"
                + "    b[::4096] = b'x' * len(b[::4096])\n"
                + "    got = 'allocated'\n"
                + "except MemoryError:\n"
                + "    got = 'refused'\n"
                + "sys.stdout.write('Content-Type: text/plain\\n\\n' + got + '\\n')\n");
        HttpResponse<String> r = tight.get("/cgi-bin/limits/alloc.py");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("refused\n");
    }

    @Test
    void anEndlessLoopEndsAtTheCpuLimit() throws Exception {
        tight.script("limits/spin.py", "import time\nend = time.time() + 60\nwhile time.time() < end:\n    pass\n"
                + "print('Content-Type: text/plain\\n\\nnot stopped')\n");
        try (LogCapture logs = LogCapture.capture()) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = tight.get("/cgi-bin/limits/spin.py");
            assertThat(r.statusCode()).isEqualTo(500);
            assertThat(millisSince(t0)).as("ended by one second of CPU, not the 30 s timeout").isLessThan(25_000);
            assertThat(logs.await(3000, "spin.py", "stopped at rlimit-cpu, 1 s of CPU time")).isNotEmpty();
        }
    }

    @Test
    void aFileStopsGrowingAtTheFileSizeLimit() throws Exception {
        String t = tag();
        Path sh = marks.resolve("fsize-sh-" + t);
        Path py = marks.resolve("fsize-py-" + t);
        tight.script("limits/fill.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
                + "exec head -c 10000000 /dev/zero > \"$QUERY_STRING\"\n");
        // Python ignores SIGXFSZ: its write fails with EFBIG instead
        tight.script("limits/fill.py", "import os, sys\n"
                + "try:\n"
                + "    with open(os.environ['QUERY_STRING'], 'wb') as f:\n"
                + "        f.write(b'x' * 10000000)\n"
                + "    got = 'written'\n"
                + "except OSError as e:\n"
                + "    got = e.strerror\n"
                + "sys.stdout.write('Content-Type: text/plain\\n\\n' + got + '\\n')\n");
        try (LogCapture logs = LogCapture.capture()) {
            // killed by SIGXFSZ after its header block: the client gets an aborted response, not a complete one
            assertThatThrownBy(() -> tight.get("/cgi-bin/limits/fill.sh?" + sh)).isInstanceOf(IOException.class);
            assertThat(Files.size(sh)).isEqualTo(1 << 20);
            assertThat(logs.await(3000, "fill.sh", "rlimit-fsize, 1048576 bytes (SIGXFSZ)")).isNotEmpty();
        }
        HttpResponse<String> r = tight.get("/cgi-bin/limits/fill.py?" + py);
        assertThat(r.body()).isEqualTo("File too large\n");
        assertThat(Files.size(py)).isLessThanOrEqualTo(1 << 20);
    }

    @Test
    void aScriptThatKillsItselfIsNotBlamedOnKilnOrMemory() throws Exception {
        tight.script("limits/suicide.sh", "#!/bin/sh\nkill -9 $$\n");
        tight.script("limits/suicide-late.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\npart\\n'\n"
                + "sleep 0.2\nkill -9 $$\n");
        try (LogCapture logs = LogCapture.capture()) {
            assertThat(tight.get("/cgi-bin/limits/suicide.sh").statusCode()).isEqualTo(500);
            assertThat(logs.await(3000, "suicide.sh: 500, script was killed by SIGKILL before", "not by Kiln",
                    "by the script itself or another process; fix: look for a kill -9")).isNotEmpty();
            try {
                tight.get("/cgi-bin/limits/suicide-late.sh");
            } catch (IOException aborted) {
                // the response is aborted: what the client sees is HonestResponsesTest's
            }
            assertThat(logs.await(3000, "suicide-late.sh: response aborted", "killed by SIGKILL, not by Kiln"))
                    .isNotEmpty();
        }
    }

    @Test
    void anOomKillIsLoggedAsOneWithItsFix() throws Exception {
        Path memcg = ownMemoryCgroup().resolve("kiln-oom-test-" + runMode + "-" + tag());
        Files.createDirectory(memcg);
        try {
            Files.writeString(memcg.resolve("memory.limit_in_bytes"), Long.toString(32L << 20));
            UserPrincipalLookupService users = memcg.getFileSystem().getUserPrincipalLookupService();
            Files.setOwner(memcg.resolve("cgroup.procs"), users.lookupPrincipalByName("nobody"));
            // the script moves itself into a 32 MiB memory cgroup of the test's, then touches 100 MiB: under
            // rlimit-mem (256m), so only the OOM killer stops it
            tight.script("limits/hog.sh", "#!/bin/sh\necho $$ > " + memcg.resolve("cgroup.procs") + "\nexec " + PY
                    + " -c 'b = bytearray(100 << 20); b[::4096] = b\"x\" * len(b[::4096])'\n");
            try (LogCapture logs = LogCapture.capture()) {
                assertThat(tight.get("/cgi-bin/limits/hog.sh").statusCode()).isEqualTo(500);
                assertThat(logs.await(3000, "hog.sh: 500, script was killed by SIGKILL", "by the kernel's OOM killer",
                        "fix: lower rlimit-mem (now 256m)")).as(String.join("\n", logs.lines())).isNotEmpty();
            }
        } finally {
            Poll.withinMillis(3000).until("the memory cgroup empty", () -> Files.readString(memcg.resolve("cgroup.procs"))
                    .isBlank());
            Files.delete(memcg);
        }
    }

    /** This JVM's cgroup in a v1 memory hierarchy root may write to (the scripts inherit it); else the test is skipped. */
    private static Path ownMemoryCgroup() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && List.of(f[1].split(",")).contains("memory")) {
                Path dir = Path.of("/sys/fs/cgroup/memory").resolve(f[2].substring(1));
                assumeTrue(Files.isWritable(dir), "no writable v1 memory cgroup: " + dir);
                return dir;
            }
        }
        assumeTrue(false, "no v1 memory cgroup");
        return null;
    }
}
