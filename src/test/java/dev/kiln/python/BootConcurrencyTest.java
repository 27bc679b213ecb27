package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.Poll;

/** Many processes on one cold cache: each module is compiled once, and no lock waits for itself. */
class BootConcurrencyTest extends BootSuite {
    @Test
    void singleFlightCompilesEachModuleOnce() throws Exception {
        int modules = 20;
        // each process says it is ready, then waits for "go": all of them import the cold modules at once
        StringBuilder main = new StringBuilder("import os, sys, time\n");
        main.append("open(os.path.join(").append(BootRuntime.pyStr(base.toString())).append(", 'ready-' + sys.argv[1]), 'w')")
                .append(".close()\n");
        main.append("while not os.path.exists(").append(BootRuntime.pyStr(base.resolve("go").toString()))
                .append("):\n    time.sleep(0.002)\n");
        for (int i = 0; i < modules; i++) {
            StringBuilder mod = new StringBuilder("import json\n");
            for (int j = 0; j < 150; j++) {
                mod.append("def f").append(j).append("(x, y=").append(j).append("):\n")
                        .append("    return [x * y + k for k in range(").append(j).append(") if k % 3]\n");
            }
            py.write("flight/m" + i + ".py", mod.toString());
            main.append("import m").append(i).append('\n');
        }
        main.append("print('ok')\n");
        String script = py.write("flight/main.py", main.toString());

        int n = 16;
        List<Process> procs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            procs.add(py.command(py.kilnCommand("rw", "timestamp", script, Integer.toString(i)), py.kilnEnv("rw"))
                    .start(base.resolve("out" + i), base.resolve("err" + i)));
        }
        Poll.withinMillis(30_000).until(n + " processes ready", () -> {
            try (Stream<Path> ready = Files.list(base)) {
                return ready.filter(p -> p.getFileName().toString().startsWith("ready-")).count() == n;
            }
        });
        Files.writeString(base.resolve("go"), "");
        long compiled = 0;
        long cached = 0;
        for (int i = 0; i < n; i++) {
            assertThat(procs.get(i).waitFor(60, TimeUnit.SECONDS)).isTrue();
            PyRun run = new PyRun(procs.get(i).exitValue(), Files.readString(base.resolve("out" + i)),
                    Files.readString(base.resolve("err" + i)));
            assertThat(run.exit()).as(run.stderr()).isZero();
            assertThat(run.stdout()).isEqualTo("ok\n");
            assertThat(run.markers("cache-error")).isEmpty();
            compiled += run.stats().get("compiled");
            cached += run.stats().get("cached");
        }
        assertThat(compiled).isEqualTo(modules + 1);        // the modules and the entry script, once each
        assertThat(cached).isEqualTo((long) n * (modules + 1) - (modules + 1));
        assertThat(py.pycsOfScripts()).hasSize(modules + 1);
    }

    @Test
    void aNestedImportDuringCompileDoesNotWaitForItself() throws Exception {
        // compile() of m.py needs the codec "kilnrot", whose module lives in the same folder: its pyc
        // is written under the same folder lock this process already holds.
        py.write("nest/kilnrot_codec.py", """
                import codecs
                def info():
                    u = codecs.lookup('utf-8')
                    return codecs.CodecInfo(name='kilnrot', encode=u.encode, decode=u.decode)
                """);
        py.write("nest/m.py", "# -*- coding: kilnrot -*-\nVALUE = 'decoded'\n");
        String script = py.write("nest/main.py", """
                import codecs
                def search(name):
                    if name == 'kilnrot':
                        import kilnrot_codec
                        return kilnrot_codec.info()
                codecs.register(search)
                import m
                print(m.VALUE)
                """);
        PyRun run = py.kiln("rw", "timestamp", script);
        assertThat(run.exit()).as(run.stderr()).isZero();
        assertThat(run.stdout()).isEqualTo("decoded\n");
        assertThat(run.stats()).containsEntry("compiled", 3L);
        assertThat(py.pycsOfScripts()).hasSize(3);
    }
}
