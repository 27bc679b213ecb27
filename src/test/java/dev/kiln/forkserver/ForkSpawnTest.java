package dev.kiln.forkserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.kiln.forkserver.ForkFixture.Run;
import dev.kiln.run.Cage;
import dev.kiln.run.ScriptLimits;
import dev.kiln.testing.Poll;
import dev.kiln.testing.ProcScan;

/**
 * An exec without a user switch or a cgroup is a posix_spawn of the fork-server (kiln_forkspawn.py), the others a
 * fork then exec: the script must not tell them apart. Its session, signal state, fds, folder and rlimits are
 * those of a forked child's exec; one that cannot be spawned is started the fork way and fails as exec does; a
 * daemon it leaves lives while it runs and dies after it.
 */
class ForkSpawnTest {
    /** What the shell is: session, signals, fds above 2 (none but its own script), folder and limits. */
    private static final String SELF = "#!/bin/sh\n"
            + "echo sid=$(awk '{print $6}' /proc/$$/stat) pid=$$\n"
            // read with builtins: dash blocks every signal while it forks, and a forked reader may see that
            + "while read -r k v; do case $k in SigBlk:|SigIgn:) echo $k$v;; esac; done < /proc/$$/status\n"
            + "echo fds=$(for f in /proc/$$/fd/*; do [ ${f##*/} -gt 2 ] && readlink $f; done | grep -v self.sh"
            + " | grep -cv '^pipe:')\n"
            + "echo cwd=$(pwd)\n"
            + "echo nofile=$(ulimit -Sn):$(ulimit -Hn) cpu=$(ulimit -St):$(ulimit -Ht) core=$(ulimit -Sc)\n"
            + "echo $(ls -l /proc/$$/fd/0 /proc/$$/fd/1 | grep -c socket) stdio-sockets\n";

    @RegisterExtension
    final ForkFixture fx = new ForkFixture();

    private ForkRequest exec(Path script, Map<String, String> env) {
        return ForkRequest.exec(List.of("/bin/sh", script.toString()), env, script.getParent());
    }

    private Map<String, String> limited() {
        Map<String, String> env = fx.baseEnv();
        env.put(ScriptLimits.RLIMITS_VARIABLE, "cpu=300:301,nofile=200:300,core=0:0");
        return env;
    }

    @Test
    void aSpawnedScriptAndAForkedOneStartAlike() throws Exception {
        ForkServer server = fx.start();
        Path script = fx.write("self.sh", SELF);
        ForkRequest spawned = exec(script, limited());
        Map<String, String> caged = limited();
        caged.put(Cage.VARIABLE, "/nonexistent/cgroup.procs");     // a request cgroup: the fork way
        assertThat(spawned.spawns()).isTrue();
        assertThat(exec(script, caged).spawns()).isFalse();
        assertThat(exec(script, fx.baseEnv()).asUser(65534, 65534, List.of()).spawns()).isFalse();

        Run run = ForkFixture.finish(server.fork(spawned), null);
        assertThat(run.exit()).as(run.stderr()).isZero();
        List<String> lines = run.stdout().lines().toList();
        String[] ids = lines.get(0).split(" ");
        assertThat(ids[0].substring(4)).as("a session leader").isEqualTo(ids[1].substring(4));
        assertThat(lines).contains("SigBlk:0000000000000000", "fds=0", "cwd=" + fx.scripts.toRealPath(),
                "nofile=200:300 cpu=300:301 core=0", "2 stdio-sockets");
        // signals 1-31: none ignored (Python's SIGPIPE and SIGXFSZ are default again)
        String ignored = lines.stream().filter(l -> l.startsWith("SigIgn:")).findFirst().orElseThrow();
        assertThat(Long.parseLong(ignored.substring(7), 16) & 0x7fffffffL).isZero();
        assertThat(server.status().childrenServed()).isEqualTo(1);
    }

    @Test
    void aCommandThatCannotBeSpawnedFailsAsExecDoesAndTheServerGoesOn() throws Exception {
        ForkServer server = fx.start();
        Path script = fx.write("self.sh", SELF);
        Run missing = ForkFixture.finish(server.fork(ForkRequest.exec(List.of("/nonexistent/interpreter",
                script.toString()), fx.baseEnv(), script.getParent())), null);
        assertThat(missing.exit()).isEqualTo(127);
        assertThat(missing.stderr()).contains("kiln: cannot run /nonexistent/interpreter: No such file or directory");
        Map<String, String> tooHigh = fx.baseEnv();     // above the fork-server's own hard limit: the fork way too
        tooHigh.put(ScriptLimits.RLIMITS_VARIABLE, "nofile=10:" + (ProcessHandle.current().pid() + (1L << 40)));
        Run refused = ForkFixture.finish(server.fork(exec(script, tooHigh)), null);
        assertThat(refused.exit()).as(refused.stdout()).isNotZero();
        assertThat(refused.stderr()).contains("cannot start the script");
        Run run = ForkFixture.finish(server.fork(exec(script, limited())), null);
        assertThat(run.stdout()).contains("nofile=200:300");
    }

    @Test
    void aThousandSpawnsOfEveryOutcomeLeaveNoDescriptorOrChildInTheForkServer() throws Exception {
        ForkServer server = fx.start();
        String marker = "300.8" + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
        Path ok = fx.write("ok.sh", "#!/bin/sh\necho ok\n");
        Path fail = fx.write("fail.sh", "#!/bin/sh\necho broken >&2\nexit 3\n");
        Path bg = fx.write("bg.sh", "#!/bin/sh\n( setsid sleep " + marker + " </dev/null >/dev/null 2>&1 & )\necho bg\n");
        ForkFixture.finish(server.fork(exec(ok, limited())), null);
        long pid = server.status().pid();
        int fds = ProcScan.idleFds(pid);
        for (int i = 0; i < 1000; i++) {
            Path script = i % 10 == 3 ? fail : i % 10 == 7 ? bg : ok;
            Run run = ForkFixture.finish(server.fork(exec(script, limited())), null);
            assertThat(run.exit()).as(script + " " + run.stderr()).isEqualTo(script == fail ? 3 : 0);
        }
        ProcScan.awaitGone(marker, Duration.ofSeconds(5));
        assertThat(server.status().running()).isZero();
        Poll.withinMillis(3000).until("the fork-server's descriptors back to " + fds, () -> ProcScan.openFds(pid),
                n -> n == fds);
        Poll.withinMillis(3000).until("no child of the fork-server", () -> Files.readString(
                Path.of("/proc/" + pid + "/task/" + pid + "/children")).strip(), String::isEmpty);
    }

    @Test
    void aDaemonOfASpawnedScriptLivesWhileItRunsThroughOtherRequestsAndDiesAfterIt() throws Exception {
        ForkServer server = fx.start();
        String marker = "300.7" + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
        // the daemon leaves the script's tree (double fork, setsid): it is the fork-server's orphan while the
        // script runs, and another script's exit in the meantime has the fork-server scan its orphans
        Path daemon = fx.write("daemon.sh", "#!/bin/sh\n( setsid sleep " + marker
                + " </dev/null >/dev/null 2>&1 & )\nsleep 0.3\necho started\nread line\n"
                + "pgrep -f 'sleep " + marker + "' >/dev/null && echo alive\n");
        Path quick = fx.write("quick.sh", "#!/bin/sh\necho quick\n");
        ForkedChild child = server.fork(exec(daemon, fx.baseEnv()));
        assertThat(new String(child.stdout().readNBytes(8))).isEqualTo("started\n");
        for (int i = 0; i < 3; i++) {
            assertThat(ForkFixture.finish(server.fork(exec(quick, fx.baseEnv())), null).stdout()).isEqualTo("quick\n");
        }
        Run run = ForkFixture.finish(child, "go\n");
        assertThat(run.stdout()).as(run.stderr()).isEqualTo("alive\n");
        ProcScan.awaitGone(marker, Duration.ofSeconds(3));
    }
}
