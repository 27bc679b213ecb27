package dev.kiln.forkserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.forkserver.ForkFixture.Run;

/** A real fork-server on Debian's python3, driven directly (no HTTP): streams, exit codes, signals, users. */
class ForkServerTest {
    @RegisterExtension
    final ForkFixture fx = new ForkFixture();

    ForkServer server;

    @BeforeEach
    void setUp() throws IOException {
        server = fx.start();
    }

    @Test
    void helloWritesStdoutAndStderrAndExitsWithItsCode() throws Exception {
        Path hello = fx.write("hello.py", """
                import sys
                print('hello', sys.argv[1:])
                print('to stderr', file=sys.stderr)
                sys.exit(3)
                """);
        Run run = fx.fork(server, hello, fx.baseEnv(), null, "one", "two words");
        assertThat(run.stdout()).isEqualTo("hello ['one', 'two words']\n");
        assertThat(run.userStderr()).isEqualTo("to stderr\n");
        assertThat(run.stderr()).contains("\u001ekiln:stats compiled=");   // the loader's counters, as classic
        assertThat(run.exit()).isEqualTo(3);
        assertThat(server.status().childrenServed()).isEqualTo(1);
    }

    @Test
    void stdinIsTheBodyThenEndOfFileAndBothDirectionsStream() throws Exception {
        Path echo = fx.write("echo.py", """
                import sys
                data = sys.stdin.buffer.read()
                sys.stdout.buffer.write(data)
                print(len(data), sys.stdin.buffer.read() == b'', file=sys.stderr)
                """);
        String body = "0123456789abcdef".repeat(64 * 1024);     // 1 MiB: far more than a socket buffer
        Run run = fx.fork(server, echo, fx.baseEnv(), body);
        assertThat(run.stdout()).isEqualTo(body);
        assertThat(run.userStderr()).isEqualTo(body.length() + " True\n");
        assertThat(fx.fork(server, echo, fx.baseEnv(), null).userStderr()).isEqualTo("0 True\n");
    }

    @Test
    void aBodyTheScriptLeavesUnreadEndsStderrCleanly() throws Exception {
        Path quick = fx.write("quick.py", "import sys\nprint('done')\nprint('last words', file=sys.stderr)\n");
        Run run = fx.fork(server, quick, fx.baseEnv(), "x".repeat(4 << 20));
        assertThat(run.stdout()).isEqualTo("done\n");
        assertThat(run.userStderr()).isEqualTo("last words\n");
        assertThat(run.exit()).isZero();
    }

    @ParameterizedTest(name = "quick exit {0}")
    @ValueSource(booleans = {false, true})
    void exitCodesAndUncaughtExceptionsAreThoseOfPython(boolean quick) throws Exception {
        fx.quickExit = quick;
        Path exit = fx.write("exit.py", """
                import os, signal, sys
                arg = sys.argv[1]
                if arg == 'raise':
                    raise ValueError('bad input')
                if arg == 'interrupt':
                    raise KeyboardInterrupt
                if arg.startswith('SIG'):
                    os.kill(os.getpid(), getattr(signal, arg))
                if arg.startswith('hook'):
                    def hook(t, v, tb):
                        print('hook saw', t.__name__, sys.last_value is v)
                        if arg == 'hook-fails':
                            raise RuntimeError('in the hook')
                        if arg == 'hook-exits':
                            sys.exit(7)
                    sys.excepthook = hook
                    raise LookupError('for the hook')
                if arg == 'big':
                    sys.exit(2 ** 70)
                sys.exit(int(arg) if arg.lstrip('-').isdigit() else arg)
                """);
        for (String arg : List.of("0", "3", "-1", "300", "big", "bad news", "raise", "interrupt", "SIGTERM",
                "SIGKILL", "hook", "hook-fails", "hook-exits")) {
            Run forked = fx.fork(server, exit, fx.baseEnv(), null, arg);
            Run classic = fx.classic(List.of(), exit, fx.baseEnv(), null, arg);
            assertThat(forked.exit()).as(arg).isEqualTo(classic.exit());
            assertThat(forked.stdout()).as(arg).isEqualTo(classic.stdout());
            assertThat(forked.userStderr()).as(arg).isEqualTo(classic.userStderr());
        }
        Run raised = fx.fork(server, exit, fx.baseEnv(), null, "raise");
        assertThat(raised.exit()).isEqualTo(1);
        assertThat(raised.userStderr()).isEqualTo("Traceback (most recent call last):\n  File \"" + exit
                + "\", line 4, in <module>\n    raise ValueError('bad input')\nValueError: bad input\n");
        assertThat(fx.fork(server, exit, fx.baseEnv(), null, "SIGTERM").exit()).isEqualTo(128 + 15);
        assertThat(fx.fork(server, exit, fx.baseEnv(), null, "interrupt").exit()).isEqualTo(128 + 2);
    }

    @Test
    void destroyForciblyAndGroupSignalsReachTheScriptAndItsChildren() throws Exception {
        Path sleeper = fx.write("sleeper.py", """
                import subprocess, sys, time
                child = subprocess.Popen(['sleep', '60'])
                print(child.pid, flush=True)
                time.sleep(60)
                """);
        ForkedChild a = server.fork(fx.request(sleeper, fx.baseEnv()));
        a.stdin().close();
        long grandchild = Long.parseLong(firstLine(a));
        a.signalGroup(15);
        assertThat(a.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(a.exitValue()).isEqualTo(128 + 15);
        assertThat(awaitGone(grandchild)).as("the script's own child, in its group").isTrue();

        ForkedChild b = server.fork(fx.request(sleeper, fx.baseEnv()));
        b.stdin().close();
        long left = Long.parseLong(firstLine(b));
        assertThat(b.isAlive()).isTrue();
        assertThatThrownBy(b::exitValue).isInstanceOf(IllegalStateException.class);
        b.destroyForcibly();
        assertThat(b.waitFor()).isEqualTo(128 + 9);
        ProcessHandle.of(left).ifPresent(ProcessHandle::destroyForcibly);  // only the script itself was killed
        b.stdout().close();
        b.stderr().close();
    }

    @Test
    void aRequestWhoseStartUpVariablesDifferIsRefusedAndTheServerStaysUsable() throws Exception {
        Path hello = fx.write("hello.py", "print('hi')\n");
        Map<String, String> env = fx.baseEnv();
        env.put("PYTHONHASHSEED", "1");
        assertThatThrownBy(() -> server.fork(fx.request(hello, env)))
                .isInstanceOf(ForkRefusedException.class).hasMessageContaining("PYTHONHASHSEED");
        env.remove("PYTHONHASHSEED");
        env.put("LANG", "C");
        assertThatThrownBy(() -> server.fork(fx.request(hello, env))).hasMessageContaining("LANG");
        assertThat(fx.fork(server, hello, fx.baseEnv(), null).stdout()).isEqualTo("hi\n");
    }

    @Test
    void theChildBecomesTheRequestsUserBeforeAnyScriptCode() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "only root can change user");
        // nobody must reach the script, but never above the test's own folder: /tmp must stay 1777
        for (Path p = fx.scripts; p.startsWith(fx.base); p = p.getParent()) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path who = fx.write("who.py", "import os\nprint(os.getuid(), os.getgid(), os.getgroups(), os.getcwd())\n");
        Files.setPosixFilePermissions(who, PosixFilePermissions.fromString("rw-r--r--"));
        List<String> args = List.of("off", "timestamp", fx.scripts.toString(), who.toString());
        ForkRequest request = ForkRequest.of(args, fx.baseEnv(), fx.scripts).asUser(65534, 65534, List.of());
        Run run = ForkFixture.finish(server.fork(request), null);
        assertThat(run.stdout()).isEqualTo("65534 65534 [] " + fx.scripts + "\n");
        assertThat(run.exit()).isZero();
    }

    @Test
    void socketFolderIsPrivateAndRemovedOnClose() throws Exception {
        Path dir = socketFolder(server);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        assertThat(dir.resolve("fork.sock")).exists();
        ForkServerStatus status = server.status();
        assertThat(status.alive()).isTrue();
        assertThat(status.interpreter()).isEqualTo(ForkFixture.PYTHON.toString());
        server.close();
        assertThat(dir).doesNotExist();
        assertThat(server.isAlive()).isFalse();
        assertThat(server.exitCause()).contains("stopped");
        assertThatThrownBy(() -> server.fork(fx.request(fx.write("x.py", ""), fx.baseEnv())))
                .hasMessageContaining("not running");
    }

    static Path socketFolder(ForkServer server) throws IOException {
        long pid = server.status().pid();
        List<String> cmd = List.of(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        return Path.of(cmd.get(cmd.indexOf(cmd.stream().filter(a -> a.endsWith("kiln_forkserver.py"))
                .findFirst().orElseThrow()) + 1));
    }

    private static String firstLine(ForkedChild child) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = child.stdout().read()) >= 0 && b != '\n') {
            sb.append((char) b);
        }
        return sb.toString();
    }

    static boolean awaitGone(long pid) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            if (ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) {
                return true;
            }
            Thread.sleep(10);
        }
        return false;
    }
}
