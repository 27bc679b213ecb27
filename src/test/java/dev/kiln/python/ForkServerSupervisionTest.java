package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.Poll;
import dev.kiln.testing.RunModes;

/**
 * Kiln supervises its fork-servers: it starts one on first use and shows it, replaces one that died or whose
 * preloaded files changed, runs classic what a fork cannot reproduce, and after repeated failures says so once
 * and serves classic. Every case answers the request correctly.
 */
class ForkServerSupervisionTest {
    private static final String HELLO = "#!/usr/bin/python3\nimport os\nprint('Content-Type: text/plain\\n')\n"
            + "print('hello from', os.getpid(), os.getppid())\n";

    @TempDir
    Path temp;

    private KilnTestServer start(String preload) throws Exception {
        KilnTestServer.Builder b = KilnTestServer.builder(temp).runMode(RunModes.FORKSERVER);
        if (preload != null) {
            b.option("preload", preload);
        }
        return b.start();
    }

    /** The one fork-server of Python scripts (the exec fork-server starts the classic runs too). */
    private static JsonNode onlyForkServer(KilnTestServer kiln) throws Exception {
        List<JsonNode> servers = new ArrayList<>();
        kiln.status().path("forkServers").forEach(s -> {
            if (!s.path("interpreter").asText().contains("(execs ")) {
                servers.add(s);
            }
        });
        assertThat(servers).as("one fork-server of Python scripts: %s", servers).hasSize(1);
        return servers.get(0);
    }

    private static long parentOf(String body) {
        String[] words = body.strip().split(" ");
        return Long.parseLong(words[words.length - 1]);
    }

    @Test
    void aForkServerStartsOnFirstUseServesEveryRequestAndIsGoneWithKiln() throws Exception {
        long pid;
        try (KilnTestServer kiln = start(null)) {
            kiln.script("hello.py", HELLO);
            assertThat(kiln.status().path("runMode").asText()).isEqualTo("forkserver");
            assertThat(kiln.status().path("forkServers")).as("none before the first Python request").isEmpty();
            for (int i = 0; i < 5; i++) {
                assertThat(kiln.get("/cgi-bin/hello.py").body()).startsWith("hello from");
            }
            JsonNode server = onlyForkServer(kiln);
            pid = server.path("pid").asLong();
            assertThat(parentOf(kiln.get("/cgi-bin/hello.py").body())).as("the child's parent").isEqualTo(pid);
            assertThat(server.path("interpreter").asText()).isEqualTo(KilnTestServer.DEBIAN_PYTHON);
            assertThat(server.path("alive").asBoolean()).isTrue();
            assertThat(server.path("childrenServed").asLong()).isEqualTo(5);
            assertThat(server.path("restarts").asInt()).isZero();
        }
        assertThat(Files.exists(Path.of("/proc/" + pid))).as("fork-server stopped with Kiln").isFalse();
    }

    @Test
    void aKilledForkServerIsReplacedByTheNextRequest() throws Exception {
        try (KilnTestServer kiln = start(null); LogCapture logs = LogCapture.capture("kiln.forkserver")) {
            kiln.script("hello.py", HELLO);
            long first = parentOf(kiln.get("/cgi-bin/hello.py").body());
            Commands.of("kill", "-KILL", Long.toString(first)).ok();
            Poll.within(Duration.ofSeconds(5)).until("fork-server gone", () -> !Files.exists(Path.of("/proc/" + first)));
            long second = parentOf(kiln.get("/cgi-bin/hello.py").body());
            assertThat(second).isNotEqualTo(first).isEqualTo(onlyForkServer(kiln).path("pid").asLong());
            assertThat(onlyForkServer(kiln).path("restarts").asInt()).isEqualTo(1);
            assertThat(logs.matching("WARN", "failed")).hasSize(1);
        }
    }

    @Test
    void editingAPreloadedModuleStartsANewForkServerThatSeesTheEdit() throws Exception {
        try (KilnTestServer kiln = start("os,applib")) {
            kiln.script("applib.py", "GREETING = 'one'\n");
            kiln.script("greet.py", "#!/usr/bin/python3\nimport os, applib\nprint('Content-Type: text/plain\\n')\n"
                    + "print(applib.GREETING, os.getppid())\n");
            String before = kiln.get("/cgi-bin/greet.py").body().strip();
            assertThat(before).startsWith("one ");
            Thread.sleep(1100); // a whole second later, so the edit shows in the source's mtime
            kiln.script("applib.py", "GREETING = 'two'\n");
            String after = Poll.within(Duration.ofSeconds(10)).until("the edit is served",
                    () -> kiln.get("/cgi-bin/greet.py").body().strip(), b -> b.startsWith("two "));
            assertThat(after.split(" ")[1]).as("a new fork-server").isNotEqualTo(before.split(" ")[1]);
        }
    }

    @Test
    void flagsAForkCannotRepeatRunClassicWithOneWarning() throws Exception {
        try (KilnTestServer kiln = start(null); LogCapture logs = LogCapture.capture("kiln.forkserver")) {
            kiln.script("timed.py", HELLO.replace("#!/usr/bin/python3", "#!/usr/bin/python3 -X importtime"));
            kiln.script("hello.py", HELLO);
            long forkServer = parentOf(kiln.get("/cgi-bin/hello.py").body());
            for (int i = 0; i < 2; i++) {
                assertThat(parentOf(kiln.get("/cgi-bin/timed.py").body())).as("not a fork-server child")
                        .isNotEqualTo(forkServer);
            }
            assertThat(logs.matching("WARN", "timed.py", "runs classic")).hasSize(1);
        }
    }

    @Test
    void aForkServerThatKeepsFailingLeavesPythonClassicWithOneError() throws Exception {
        try (KilnTestServer kiln = start("os,broken"); LogCapture logs = LogCapture.capture("kiln.forkserver")) {
            kiln.script("broken.py", "import os\nos._exit(5)  # the fork-server dies before it is ready\n");
            kiln.script("hello.py", HELLO);
            for (int i = 0; i < ForkServers.MAX_FAILURES + 2; i++) {
                assertThat(kiln.get("/cgi-bin/hello.py").body()).as("answered all the same").startsWith("hello from");
            }
            assertThat(logs.matching("ERROR", "failed " + ForkServers.MAX_FAILURES + " times", "run classic"))
                    .hasSize(1);
            JsonNode server = onlyForkServer(kiln);
            assertThat(server.path("classicNow").asBoolean()).isTrue();
            assertThat(server.path("alive").asBoolean()).isFalse();
            assertThat(server.path("lastFailure").asText()).isNotEmpty();
            List<String> classic = logs.matching("WARN", "failed");
            assertThat(classic).hasSize(ForkServers.MAX_FAILURES);
        }
    }
}
