package dev.kiln.forkserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The fork-server killed, stopped, or outliving the Kiln that started it: nothing hangs, nothing is left. */
class ForkServerFailureTest {
    @RegisterExtension
    final ForkFixture fx = new ForkFixture();

    Path sleeper;

    @BeforeEach
    void setUp() throws IOException {
        sleeper = fx.write("sleeper.py", """
                import subprocess, sys, time
                child = subprocess.Popen(['sleep', '60'])
                print(child.pid, flush=True)
                time.sleep(60)
                """);
    }

    @Test
    void killedMidRequestTheScriptCompletesAsKilledAndTheNextServerWorks() throws Exception {
        ForkServer server = fx.start();
        CountDownLatch exited = new CountDownLatch(1);
        server.onExit(s -> exited.countDown());
        ForkedChild child = server.fork(fx.request(sleeper, fx.baseEnv()));
        child.stdin().close();
        long grandchild = Long.parseLong(firstLine(child));
        Path folder = ForkServerTest.socketFolder(server);
        CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> ForkFixture.readAll(child.stdout()));

        ProcessHandle.of(server.status().pid()).orElseThrow().destroyForcibly();
        assertThat(child.waitFor(5, TimeUnit.SECONDS)).as("waitFor returns").isTrue();
        assertThat(child.exitValue()).isEqualTo(128 + 9);
        assertThat(exited.await(5, TimeUnit.SECONDS)).as("exit listener").isTrue();
        try {
            rest.get(5, TimeUnit.SECONDS);      // ends, at EOF or with the closed stream's error
        } catch (ExecutionException closed) {
            assertThat(closed.getCause()).isInstanceOf(UncheckedIOException.class);
        }
        assertThat(ForkServerTest.awaitGone(child.pid())).as("the orphaned script").isTrue();
        assertThat(ForkServerTest.awaitGone(grandchild)).as("its child").isTrue();
        assertThat(server.isAlive()).isFalse();
        assertThat(server.exitCause().orElseThrow()).contains("killed by signal 9");
        assertThat(folder).doesNotExist();
        assertThatThrownBy(() -> server.fork(fx.request(sleeper, fx.baseEnv()))).isInstanceOf(IOException.class);
        server.close();

        try (ForkServer next = fx.start()) {
            Path hello = fx.write("hello.py", "print('again')\n");
            assertThat(fx.fork(next, hello, fx.baseEnv(), null).stdout()).isEqualTo("again\n");
        }
    }

    @Test
    void closingControlKillsEveryChildsGroup() throws Exception {
        ForkServer server = fx.start();
        ForkedChild child = server.fork(fx.request(sleeper, fx.baseEnv()));
        child.stdin().close();
        long grandchild = Long.parseLong(firstLine(child));
        long serverPid = server.status().pid();
        server.close();
        assertThat(child.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(ForkServerTest.awaitGone(serverPid)).as("fork-server").isTrue();
        assertThat(ForkServerTest.awaitGone(child.pid())).as("script").isTrue();
        assertThat(ForkServerTest.awaitGone(grandchild)).as("the script's child").isTrue();
    }

    @Test
    void whenKilnDiesTheForkServerKillsItsChildrenAndExits() throws Exception {
        Path home = Files.createDirectories(fx.base.resolve("standin"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), KilnStandIn.class.getName(), home.toString(),
                sleeper.toString());
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process kiln = pb.start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(kiln.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line = out.readLine();
            assertThat(line).as("the stand-in's report").isNotNull();
            String[] words = line.split(" ");
            List<Long> pids = List.of(words[0], words[1], words[2]).stream().map(Long::parseLong).toList();
            Path folder = Path.of(words[3]);
            for (long pid : pids) {
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
            }
            assertThat(folder.resolve("fork.sock")).exists();
            kiln.destroyForcibly();    // kill -9: no shutdown hook, no close()
            for (long pid : pids) {
                assertThat(ForkServerTest.awaitGone(pid)).as("pid " + pid + " of " + line).isTrue();
            }
            assertThat(folder).as("removed by the fork-server on its way out").doesNotExist();
        } finally {
            kiln.destroyForcibly();
        }
    }

    static String firstLine(ForkedChild child) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = child.stdout().read()) >= 0 && b != '\n') {
            sb.append((char) b);
        }
        return sb.toString();
    }
}
