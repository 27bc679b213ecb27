package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.StreamSupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.testing.Json;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.ProcScan;
import dev.kiln.testing.RunModes;

/**
 * Scripts that are not Python start from the exec fork-server (as mod_cgid's daemon starts every script) unless
 * exec-server=false: either way as a session leader with an empty signal mask, default dispositions, only fds
 * 0-2 and the exact bytes of their environment; a command the fork-server cannot exec fails as exec does.
 */
class ForkExecTest {
    /** What a started process is: its parent, session, signal state and open fds, as JSON. */
    private static final String SELF = "#!/bin/sh\nprintf 'Content-Type: application/json\\n\\n'\n"
            // read with builtins first: dash blocks every signal while it forks, which a forked reader may see
            + "while read -r k v; do case $k in SigBlk:) blk=$v;; SigIgn:) ign=$v;; esac; done < /proc/$$/status\n"
            + "sid=$(awk '{print $6}' /proc/$$/stat)\n"
            // above 2: the script file the shell reads and its command substitution's pipe, nothing else
            + "fds=$(for f in /proc/$$/fd/*; do [ ${f##*/} -gt 2 ] && readlink $f; done | grep -v self.sh | grep -cv "
            + "'^pipe:')\n"
            + "printf '{\"pid\":\"%s\",\"ppid\":\"%s\",\"sid\":\"%s\",\"blocked\":\"%s\",\"ignored\":\"%s\","
            + "\"fds\":\"%s\",\"info\":\"%s\"}' $$ $PPID $sid $blk $ign $fds \"$PATH_INFO\"\n";

    @TempDir
    Path temp;

    private static JsonNode execServer(KilnTestServer kiln) throws Exception {
        return StreamSupport.stream(kiln.status().path("forkServers").spliterator(), false)
                .filter(s -> s.path("interpreter").asText().endsWith("(execs scripts that are not Python)"))
                .findFirst().orElse(null);
    }

    @ParameterizedTest(name = "exec-server={0}")
    @ValueSource(booleans = {true, false})
    void aShellScriptStartsAsItsOwnCleanSession(boolean execServer) throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(RunModes.FORKSERVER)
                .option("exec-server", Boolean.toString(execServer)).start()) {
            kiln.script("self.sh", SELF);
            Map<String, String> self = Json.strings(kiln.get("/cgi-bin/self.sh/caf%C3%A9").body());
            assertThat(self.get("sid")).as("a session leader").isEqualTo(self.get("pid"));
            // signals 1-31 (above them glibc's own, which the JVM running the tests leaves as they are)
            assertThat(Long.parseLong(self.get("ignored"), 16) & 0x7fffffffL).as("no signal ignored").isZero();
            assertThat(self.get("fds")).as("descriptors it inherited beyond 0-2").isEqualTo("0");
            assertThat(self.get("info")).isEqualTo("/café");
            JsonNode server = execServer(kiln);
            if (execServer) {
                // from the JVM, Java 17-24 leave SIGQUIT blocked (its vfork child does not unblock it)
                assertThat(Long.parseLong(self.get("blocked"), 16)).as("no signal blocked").isZero();
                assertThat(server).as("the exec fork-server is listed").isNotNull();
                assertThat(self.get("ppid")).isEqualTo(server.path("pid").asText());
                assertThat(server.path("childrenServed").asLong()).isEqualTo(1);
            } else {
                assertThat(server).as("no exec fork-server").isNull();
                assertThat(self.get("ppid")).as("started by Kiln's JVM (setsid exec'd in place)")
                        .isEqualTo(Long.toString(ProcessHandle.current().pid()));
            }
        }
    }

    @Test
    void aScriptWhoseInterpreterCannotRunIsA500AndTheServerKeepsServing() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(RunModes.FORKSERVER).start()) {
            // an interpreter that exists and is executable but is not a program the kernel can run
            kiln.script("fake-interp", "not a program\n");
            kiln.script("broken.cgi", "#!" + kiln.scripts().resolve("fake-interp") + "\n");
            assertThat(kiln.get("/cgi-bin/broken.cgi").statusCode()).isEqualTo(500);
            kiln.script("ok.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n");
            assertThat(kiln.get("/cgi-bin/ok.sh").body()).isEqualTo("ok\n");
            assertThat(execServer(kiln).path("alive").asBoolean()).isTrue();
            ProcScan.awaitGone("fake-interp", Duration.ofSeconds(2));
        }
    }
}
