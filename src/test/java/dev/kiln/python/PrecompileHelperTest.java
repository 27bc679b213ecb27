package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.Bytecode;
import dev.kiln.testing.Json;

/** Runs the real {@code /usr/bin/python3} on kiln_precompile.py and checks its events and the cache it fills. */
class PrecompileHelperTest extends BootSuite {
    private PyRun precompile(String validation, String... scripts) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(BootRuntime.PYTHON,
                py.runtime.resolve("kiln_precompile.py").toString(), validation, py.scripts.toString()));
        cmd.addAll(List.of(scripts));
        return py.run(cmd, Map.of("PYTHONPYCACHEPREFIX", py.prefix.toString()));
    }

    /** The JSON lines of stdout, each an event. */
    static List<Map<String, Object>> events(String stdout) {
        List<Map<String, Object>> out = Json.lines(stdout);
        assertThat(out).allSatisfy(e -> assertThat(e).containsKey("event"));
        return out;
    }

    static List<Object> paths(List<Map<String, Object>> events, String kind) {
        return events.stream().filter(e -> kind.equals(e.get("event"))).map(e -> e.get("path"))
                .collect(Collectors.toList());
    }

    private void writeApp() throws IOException {
        py.write("app/helper.py", "import os\nVALUE = 1\n");
        py.write("app/pkg/__init__.py", "from . import base\n");
        py.write("app/pkg/base.py", "B = 2\n");
        py.write("app/pkg/sub/__init__.py", "");
        py.write("app/pkg/sub/leaf.py", "from ..base import B\nfrom .. import base\nLEAF = B + 1\n");
        py.write("app/pkg/sub/other.py", "from . import leaf\n");
        py.write("app/lazy.py", "L = 'lazy'\n");
        py.write("app/sideeffect.py", "open(" + BootRuntime.pyStr(base.resolve("executed").toString())
                + ", 'w').write('ran')\n");
        py.write("app/unused.py", "U = 0\n");
        py.write("app/main.py", """
                import helper
                from pkg.sub import leaf, other
                import json
                import email.mime.text
                def later():
                    try:
                        import lazy
                    except ImportError:
                        import does_not_exist
                if False:
                    import sideeffect
                print(helper.VALUE, leaf.LEAF)
                """);
    }

    @Test
    void precompilesTheScriptAndItsImportsWithoutRunningThem() throws Exception {
        writeApp();
        String main = py.scripts.resolve("app/main.py").toString();
        PyRun run = precompile("timestamp", main);
        assertThat(run.exit()).as(run.stderr()).isZero();
        List<Map<String, Object>> events = events(run.stdout());

        assertThat(events.get(0)).containsEntry("event", "script").containsEntry("path", main)
                .containsEntry("index", 1L).containsEntry("total", 1L);
        String app = py.scripts.resolve("app") + "/";
        assertThat(paths(events, "compiled")).containsExactlyInAnyOrder(
                main, app + "helper.py", app + "pkg/__init__.py", app + "pkg/base.py", app + "pkg/sub/__init__.py",
                app + "pkg/sub/leaf.py", app + "pkg/sub/other.py", app + "lazy.py", app + "sideeffect.py");
        assertThat(paths(events, "error")).isEmpty();
        Map<String, Object> summary = events.get(events.size() - 1);
        assertThat(summary).containsEntry("event", "summary").containsEntry("scripts", 1L)
                .containsEntry("compiled", 9L).containsEntry("errors", 0L);
        assertThat((Long) summary.get("fresh")).isPositive();    // json, email...: the stdlib's own bytecode
        assertThat(base.resolve("executed")).doesNotExist();
        assertThat(py.pycsOfScripts()).hasSize(9);
        Bytecode.assertNoneUnder(py.scripts);

        // The script then runs without compiling anything.
        PyRun served = py.kiln("rw", "timestamp", main);
        assertThat(served.stdout()).isEqualTo("1 3\n");
        assertThat(served.stats()).containsEntry("compiled", 0L).containsEntry("cached", 7L);

        // A second precompile finds everything fresh and rewrites nothing.
        Map<Path, String> pycs = py.pycsOfScripts();
        PyRun again = precompile("timestamp", main);
        assertThat(again.exit()).isZero();
        List<Map<String, Object>> second = events(again.stdout());
        assertThat(paths(second, "compiled")).isEmpty();
        assertThat(second.get(second.size() - 1)).containsEntry("compiled", 0L)
                .containsEntry("fresh", (Long) summary.get("fresh") + 9);
        assertThat(py.pycsOfScripts()).isEqualTo(pycs);
    }

    @Test
    void readOnlyModeUsesAPrecompiledCacheAndNeverWrites() throws Exception {
        py.write("app/helper.py", "H = 'helped'\n");
        String main = py.write("app/main.py", "import helper\nprint(helper.H)\n");
        PyRun cold = py.kiln("ro", "timestamp", main);
        assertThat(cold.stdout()).isEqualTo("helped\n");
        assertThat(cold.stats()).containsEntry("compiled", 2L).containsEntry("cached", 0L);
        assertThat(py.pycsOfScripts()).isEmpty();
        assertThat(Path.of(py.prefix + py.runtime.toString())).doesNotExist();  // not even kiln_loader's

        assertThat(precompile("timestamp", main).exit()).isZero();
        Map<Path, String> pycs = py.pycsOfScripts();
        assertThat(pycs).hasSize(2);
        PyRun warm = py.kiln("ro", "timestamp", main);
        assertThat(warm.stdout()).isEqualTo("helped\n");
        assertThat(warm.stats()).containsEntry("compiled", 0L).containsEntry("cached", 2L);
        assertThat(py.pycsOfScripts()).isEqualTo(pycs);
        Bytecode.assertNoneUnder(py.scripts);
    }

    @Test
    void syntaxErrorsAreCollectedAndMakeItExitOne() throws Exception {
        py.write("app/good.py", "G = 1\n");
        py.write("app/bad.py", "x = 1\n\ndef broken(:\n    pass\n");
        String first = py.write("app/first.py", "import bad\nimport good\n");
        String second = py.write("app/second.py", "import good\n");
        String broken = py.write("app/broken_entry.py", "print('unclosed'\n");
        PyRun run = precompile("checked-hash", first, broken, second);
        assertThat(run.exit()).isEqualTo(1);
        List<Map<String, Object>> events = events(run.stdout());

        assertThat(events.stream().filter(e -> "script".equals(e.get("event"))).map(e -> e.get("index")))
                .containsExactly(1L, 2L, 3L);
        String bad = py.scripts.resolve("app/bad.py").toString();
        List<Map<String, Object>> errors = events.stream().filter(e -> "error".equals(e.get("event")))
                .collect(Collectors.toList());
        assertThat(errors).hasSize(2);
        assertThat(errors.get(0)).containsEntry("path", bad).containsEntry("line", 3L);
        assertThat((String) errors.get(0).get("message")).startsWith("SyntaxError");
        assertThat(errors.get(1)).containsEntry("path", broken).containsEntry("line", 1L);
        assertThat(run.stderr()).contains(bad + ":3: SyntaxError").contains(broken + ":1: SyntaxError");
        assertThat(paths(events, "compiled")).containsExactlyInAnyOrder(first,
                py.scripts.resolve("app/good.py").toString(), second);
        assertThat(events.get(events.size() - 1)).containsEntry("event", "summary")
                .containsEntry("scripts", 3L).containsEntry("compiled", 3L).containsEntry("errors", 2L);
        for (Path pyc : py.pycsOfScripts().keySet()) {
            assertThat(BootRuntime.pycFlags(pyc)).isEqualTo(0b11);     // checked-hash as asked
        }
    }
}
