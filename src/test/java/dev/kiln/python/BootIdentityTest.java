package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.testing.Bytecode;

/** Through kiln_boot.py a script sees and prints exactly what a plain {@code python3 script.py} gives it. */
class BootIdentityTest extends BootSuite {
    @ParameterizedTest
    @ValueSource(strings = {"app/probe.py", "alias/probe.py"}) // alias: a symlink to the app folder
    void scriptSeesExactlyWhatPlainPythonGives(String script) throws Exception {
        py.write("app/helper.py", "VALUE = 'from helper'\n");
        py.write("app/probe.py", """
                \"\"\"The probe's docstring.\"\"\"
                import sys
                import helper
                g = dict(globals())
                print(list(g))
                print({k: v for k, v in g.items() if k not in ('__builtins__', '__loader__', 'sys', 'helper')})
                print(type(__loader__).__module__, type(__loader__).__name__, __loader__.name, __loader__.path)
                print(__builtins__ is __import__('builtins'), sys.modules['__main__'] is sys.modules[__name__])
                print(sys.modules['__main__'].__dict__ is globals(), repr(sys.modules['__main__']))
                print(sys.argv)
                print(sys.path)
                print(getattr(sys, 'orig_argv', None))
                print(sorted(m for m in sys.modules if 'kiln' in m))
                print(helper.VALUE, helper.__file__, helper.__cached__)
                print(sys.stdout.line_buffering, sys.stdout.write_through, sys.stderr.line_buffering)
                """);
        Files.createSymbolicLink(py.scripts.resolve("alias"), py.scripts.resolve("app"));
        String path = py.scripts.resolve(script).toString();
        PyRun plain = py.plain(path, "one", "two words");
        PyRun cold = py.kiln("rw", "timestamp", path, "one", "two words");
        PyRun warm = py.kiln("rw", "timestamp", path, "one", "two words");
        assertThat(plain.exit()).as(plain.stderr()).isZero();
        assertThat(cold.exit()).as(cold.stderr()).isZero();
        // helper.__cached__ differs on purpose (the prefix): compare everything else
        assertThat(withoutCached(cold.stdout())).isEqualTo(withoutCached(plain.stdout()));
        assertThat(warm.stdout()).isEqualTo(cold.stdout());
        assertThat(cold.userStderr()).isEqualTo(plain.stderr());
        assertThat(warm.userStderr()).isEqualTo(plain.stderr());
        assertThat(plain.stdout()).contains("'__file__': '" + path + "'")
                .contains("'" + py.scripts.resolve("app").toRealPath() + "'")
                .contains("['" + path + "', 'one', 'two words']");
        assertThat(cold.stdout()).contains(py.prefix.toString());   // helper's pyc lives in the prefix
    }

    private static String withoutCached(String probeOutput) {
        return probeOutput.replaceAll("(from helper \\S+) \\S+\\n", "$1 <cached>\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"rw", "ro", "off"})
    void siblingImportsWorkInEveryCacheMode(String mode) throws Exception {
        py.write("app/helper.py", "def greet(n):\n    return 'hello ' + n\n");
        String script = py.write("app/main.py", "import helper, sys\nprint(helper.greet(sys.argv[1]))\n");
        PyRun run = py.kiln(mode, "timestamp", script, "kiln");
        assertThat(run.exit()).as(run.stderr()).isZero();
        assertThat(run.stdout()).isEqualTo("hello kiln\n");
        Bytecode.assertNoneUnder(py.scripts);
    }

    @Test
    void offModeCachesNothingAnywhere() throws Exception {
        py.write("app/helper.py", "X = 1\n");
        String script = py.write("app/main.py", "import helper\nprint(helper.X)\n");
        PyRun off = py.kiln("off", "timestamp", script);
        assertThat(off.stdout()).isEqualTo("1\n");
        // off installs no import hook: only the entry script, which Kiln compiles itself, is counted
        assertThat(off.stats()).containsEntry("compiled", 1L).containsEntry("cached", 0L)
                .containsEntry("shipped", 0L);
        assertThat(py.pycsOfScripts()).isEmpty();
        Bytecode.assertNoneUnder(py.scripts);
    }
}
