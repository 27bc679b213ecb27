package dev.kiln.forkserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.kiln.python.LoaderProtocol;

/**
 * Code a fork-server keeps for its children (kiln_warmcode.py): a child names each pyc it read or compiled itself,
 * the fork-server reads it once when told, and later children take its code while the source and the pyc are
 * unchanged; names that are not of trusted pycs are not read.
 */
class WarmCodeTest {
    @RegisterExtension
    final ForkFixture fx = new ForkFixture();

    @Test
    void laterChildrenTakeTheForkServersCodeWhileSourceAndPycStayTheSame() throws Exception {
        Path module = fx.write("lib/widgets.py", "VALUE = 'first'\n");
        Path script = fx.write("lib/page.py", "import widgets\nprint(widgets.VALUE)\n");
        ForkServer server = fx.start();
        ForkFixture.Run first = fx.fork(server, script, fx.baseEnv(), null);
        assertThat(first.stdout()).isEqualTo("first\n");
        assertThat(first.stderr()).contains("compiled=2 ");
        List<WarmCode> cold = cold(first);
        assertThat(cold).extracting(WarmCode::source).containsExactlyInAnyOrder(escaped(module), escaped(script));

        // Once the fork-server has the code, a child reads no pyc: it names none, and compiles nothing.
        ForkFixture.Run warm = untilWarm(server, script, cold);
        assertThat(cold(warm)).isEmpty();
        assertThat(warm.stdout()).isEqualTo("first\n");
        assertThat(warm.stderr()).contains("compiled=0 cached=2 ");

        // Without its pyc (pruned, the cache emptied) the code kept of it is not used: compiled and named again.
        Path pyc = fx.prefix.resolve(fx.scripts.toString().substring(1)).resolve("lib/widgets.cpython-311.pyc");
        Files.delete(pyc);
        ForkFixture.Run pruned = fx.fork(server, script, fx.baseEnv(), null);
        assertThat(pruned.stderr()).contains("compiled=1 cached=1 ");
        assertThat(cold(pruned)).extracting(WarmCode::source).containsExactly(escaped(module));
        assertThat(pyc).exists();

        // An edited module: the same, and what the child runs is the edit.
        untilWarm(server, script, cold(pruned));
        Files.writeString(module, "VALUE = 'second, edited'\n");
        Files.setLastModifiedTime(module, FileTime.fromMillis(System.currentTimeMillis() + 2000));
        ForkFixture.Run edited = fx.fork(server, script, fx.baseEnv(), null);
        assertThat(edited.stdout()).isEqualTo("second, edited\n");
        assertThat(edited.stderr()).contains("compiled=1 cached=1 ");
        assertThat(cold(edited)).extracting(WarmCode::source).containsExactly(escaped(module));
    }

    @Test
    void namesOfFilesThatAreNotTrustedPycsAreNotRead() throws Exception {
        Path script = fx.write("plain.py", "print('still serving')\n");
        ForkServer server = fx.start();
        ForkFixture.Run first = fx.fork(server, script, fx.baseEnv(), null);
        WarmCode real = cold(first).get(0);
        // Bytes a script could have written where a pyc is looked for: under the scripts folder, and a pyc of
        // the cache named with another source than its own.
        Path planted = fx.write("__pycache__/plain.cpython-311.pyc", "not marshal data at all");
        server.warm(List.of(new WarmCode(escaped(planted), escaped(script)),
                new WarmCode(real.pyc(), escaped(fx.write("other.py", "x = 1\n"))),
                new WarmCode("%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd"), new WarmCode("%ZZ%", "%")));
        for (int i = 0; i < 3; i++) {
            ForkFixture.Run run = fx.fork(server, script, fx.baseEnv(), null);
            assertThat(run.stdout()).isEqualTo("still serving\n");
            assertThat(cold(run)).as("the cache's pyc was not taken for another source").containsExactly(real);
        }
        assertThat(server.isAlive()).isTrue();
    }

    /** Tells the fork-server until a child names no pyc (the warm command is asynchronous to the next fork). */
    private ForkFixture.Run untilWarm(ForkServer server, Path script, List<WarmCode> cold) throws Exception {
        server.warm(cold);
        ForkFixture.Run run = null;
        for (int attempt = 0; attempt < 50; attempt++) {
            run = fx.fork(server, script, fx.baseEnv(), null);
            if (cold(run).isEmpty()) {
                return run;
            }
            server.warm(cold(run));
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return run;
    }

    private static List<WarmCode> cold(ForkFixture.Run run) {
        List<WarmCode> out = new ArrayList<>();
        for (String line : run.stderr().split("\n")) {
            int at = LoaderProtocol.markerAt(line);
            if (at >= 0 && LoaderProtocol.parse(line.substring(at + LoaderProtocol.MARKER.length()))
                    instanceof LoaderProtocol.Message.Cold c) {
                out.add(c.code());
            }
        }
        return out;
    }

    /** A path as the loader's lines escape it: these tests' paths are plain ASCII, '/' and '-' kept. */
    private static String escaped(Path path) {
        return path.toString();
    }
}
