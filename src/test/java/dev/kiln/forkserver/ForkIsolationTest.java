package dev.kiln.forkserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.forkserver.ForkFixture.Run;

/** What one request does to its interpreter never reaches the next; each ends as a fresh Python would. */
class ForkIsolationTest {
    @RegisterExtension
    final ForkFixture fx = new ForkFixture();

    ForkServer server;

    @BeforeEach
    void setUp() throws IOException {
        fx.write("app/helper.py", "VALUE = 'pristine'\n");
        server = fx.start(fx.spec(List.of(), fx.baseEnv(), List.of("json", "email.message", "helper")));
    }

    @Test
    void aScriptThatPollutesItsInterpreterLeavesNothingForTheNext() throws Exception {
        Path polluter = fx.write("app/polluter.py", """
                import atexit, json, os, signal, sys, threading, time
                import helper
                json.POLLUTED = True
                helper.VALUE = 'polluted'
                os.getcwd = lambda: '/polluted'
                sys.path.append('/polluted')
                sys.modules['polluted_module'] = type(sys)('polluted_module')
                os.chdir('/')
                os.environ['POLLUTED'] = '1'
                os.umask(0o077)
                signal.signal(signal.SIGUSR1, signal.SIG_IGN)
                signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
                def late():
                    time.sleep(0.3)
                    print('thread done', flush=True)
                threading.Thread(target=late).start()
                threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
                atexit.register(lambda: print('atexit ran', flush=True))
                print('polluted', flush=True)
                """);
        Path checker = fx.write("app/checker.py", """
                import json, os, signal, sys, threading
                import helper
                print(hasattr(json, 'POLLUTED'), helper.VALUE, os.getcwd() == os.path.dirname(__file__),
                      '/polluted' in sys.path, 'polluted_module' in sys.modules, 'POLLUTED' in os.environ,
                      oct(os.umask(0o22)), signal.getsignal(signal.SIGUSR1),
                      signal.pthread_sigmask(signal.SIG_BLOCK, []), threading.active_count())
                """);
        String clean = "False pristine True False False False 0o22 0 set() 1\n";
        assertThat(fx.fork(server, checker, fx.baseEnv(), null).stdout()).isEqualTo(clean);
        Run polluted = fx.fork(server, polluter, fx.baseEnv(), null);
        // the non-daemon thread, then atexit, both before stdout ends: the response waits for them
        assertThat(polluted.stdout()).isEqualTo("polluted\nthread done\natexit ran\n");
        assertThat(polluted.exit()).isZero();
        for (int i = 0; i < 3; i++) {
            assertThat(fx.fork(server, checker, fx.baseEnv(), null).stdout()).isEqualTo(clean);
        }
    }

    @ParameterizedTest(name = "quick exit {0}")
    @ValueSource(booleans = {false, true})
    void theEndOfAScriptIsThatOfPlainPython(boolean quick) throws Exception {
        fx.quickExit = quick;
        Path ending = fx.write("app/ending.py", """
                import atexit, os, sys, tempfile, threading, time
                log = open(sys.argv[1], 'w')
                log.write('written, never closed')
                tmp = tempfile.NamedTemporaryFile(prefix='kiln-', dir=os.path.dirname(sys.argv[1]))
                class Noisy:
                    def __del__(self):
                        sys.stderr.write('finalized\\n')
                keep = Noisy()
                def late():
                    time.sleep(0.2)
                    print('thread done')
                threading.Thread(target=late).start()
                atexit.register(print, 'atexit ran')
                import importlib.util
                spec = importlib.util.find_spec('csv')
                spec.loader = importlib.util.LazyLoader(spec.loader)
                lazy = sys.modules['csv'] = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(lazy)   # loads once touched: never here, nor at exit
                os.kept = lazy      # held by a module that outlives the script's, as Mercurial's are
                print(os.path.basename(tmp.name))
                sys.stdout.write('unflushed at the end')
                """);
        Path outClassic = Files.createDirectories(fx.base.resolve("classic")).resolve("log");
        Path outForked = Files.createDirectories(fx.base.resolve("forked")).resolve("log");
        Run classic = fx.classic(List.of(), ending, fx.baseEnv(), null, outClassic.toString());
        Run forked = fx.fork(server, ending, fx.baseEnv(), null, outForked.toString());
        assertThat(forked.exit()).isEqualTo(classic.exit()).isZero();
        String tmpClassic = classic.stdout().split("\n")[0];
        assertThat(forked.stdout().replace(forked.stdout().split("\n")[0], tmpClassic))
                .isEqualTo(classic.stdout()).endsWith("\nunflushed at the endthread done\natexit ran\n");
        assertThat(forked.userStderr()).isEqualTo(classic.userStderr());
        assertThat(Files.readString(outForked)).isEqualTo(Files.readString(outClassic))
                .isEqualTo("written, never closed");
        try (var left = Files.list(outForked.getParent())) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("log");  // temp file removed
        }
    }

    @Test
    void everyChildDrawsFreshRandomnessButSharesTheHashSeed() throws Exception {
        Path draw = fx.write("app/draw.py", """
                import os, random, tempfile, uuid
                print(random.random(), uuid.uuid4(), next(tempfile._get_candidate_names()), os.urandom(8).hex())
                print(hash('kiln'))
                """);
        Set<String> draws = new HashSet<>();
        Set<String> hashes = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            String[] lines = fx.fork(server, draw, fx.baseEnv(), null).stdout().split("\n");
            for (String value : lines[0].split(" ")) {
                assertThat(draws.add(value)).as("drawn twice: " + value).isTrue();
            }
            hashes.add(lines[1]);
        }
        // documented: the str hash seed is the fork-server's, the same in all its children
        assertThat(hashes).hasSize(1);
        assertThat(fx.classic(List.of(), draw, fx.baseEnv(), null).stdout().split("\n")[1])
                .isNotEqualTo(hashes.iterator().next());
    }

    @Test
    void onlyStdioIsOpenAndNothingOfTheServerIsReachable() throws Exception {
        Path fds = fx.write("app/fds.py", """
                import os, sys
                print(sorted(int(f) for f in os.listdir('/proc/self/fd')))
                print(sorted(m for m in sys.modules if m.startswith('kiln') or m in ('selectors', 'signal')))
                print(sorted(sys.modules['__main__'].__dict__.keys() - {'os', 'sys'}))
                """);
        Run run = fx.fork(server, fds, fx.baseEnv(), null);
        assertThat(run.stdout()).isEqualTo("[0, 1, 2, 3]\n['selectors']\n['__annotations__', '__builtins__', "
                + "'__cached__', '__doc__', '__file__', '__loader__', '__name__', '__package__', '__spec__']\n");
    }
}
