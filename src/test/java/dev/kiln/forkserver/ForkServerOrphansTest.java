package dev.kiln.forkserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.kiln.forkserver.ForkFixture.Run;
import dev.kiln.testing.ProcScan;

/**
 * Without any cgroup (the fork-server driven directly, as where none is delegated): a script's daemon (double
 * fork, setsid, a session of its own) lives while its script runs and is killed once the script has exited, the
 * fork-server and each child being subreapers. Python and exec'd scripts alike.
 */
class ForkServerOrphansTest {
    @RegisterExtension
    final ForkFixture fx = new ForkFixture();

    private static String marker() {
        return "300.6" + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
    }

    @Test
    void aPythonDaemonLivesWhileItsScriptRunsAndDiesWhenItEnds() throws Exception {
        ForkServer server = fx.start();
        String marker = marker();
        Path script = fx.write("daemon.py", """
                import os, sys, time
                r, w = os.pipe()
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        fd = os.open('/dev/null', os.O_RDWR)
                        for i in (0, 1, 2):
                            os.dup2(fd, i)
                        os.write(w, b'%d\\n' % os.getpid())
                        os.execv('/bin/sleep', ['sleep', '@MARKER@'])
                    os._exit(0)
                os.wait()
                daemon = int(os.read(r, 64))
                time.sleep(0.5)     # its parent is gone: it is an orphan now, of a script still running
                os.kill(daemon, 0)
                print('alive', daemon)
                """.replace("@MARKER@", marker));
        Run run = fx.fork(server, script, fx.baseEnv(), null);
        assertThat(run.stdout()).as(run.stderr()).startsWith("alive ");
        assertThat(run.exit()).isZero();
        ProcScan.awaitGone(marker, Duration.ofSeconds(3));
        assertThat(fx.fork(server, fx.write("hello.py", "print('still serving')\n"), fx.baseEnv(), null).stdout())
                .isEqualTo("still serving\n");
    }

    @Test
    void aShellDaemonOfAnExecdScriptDiesWhenItsScriptEnds() throws Exception {
        ForkServer server = fx.start();
        String marker = marker();
        Path script = fx.write("daemon.sh", "#!/bin/sh\n( setsid sleep " + marker + " </dev/null >/dev/null 2>&1 & )\n"
                + "echo left\n");
        script.toFile().setExecutable(true);
        ForkedChild child = server.fork(ForkRequest.exec(List.of("/bin/sh", script.toString()), fx.baseEnv(),
                script.getParent()));
        Run run = ForkFixture.finish(child, null);
        assertThat(run.stdout()).isEqualTo("left\n");
        ProcScan.awaitGone(marker, Duration.ofSeconds(3));
    }
}
