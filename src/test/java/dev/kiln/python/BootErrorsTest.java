package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;


import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Errors through kiln_boot.py: the tracebacks and exit codes of plain Python, no trace of Kiln in them. */
class BootErrorsTest extends BootSuite {
    @BeforeEach
    void writeScripts() throws Exception {
        py.write("app/helper.py", "def divide(a):\n    return a / 0\n");
        py.write("app/broken.py", "x = 1\ndef f(:\n    pass\n");
        py.write("app/boom.py", "import helper\n\n\nhelper.divide(1)\n");
        py.write("app/imports_broken.py", "print('before')\nimport broken\n");
        py.write("app/itself_broken.py", "print('never'\n");
        py.write("app/caught.py", """
                import traceback
                try:
                    import broken
                except SyntaxError:
                    traceback.print_exc()
                try:
                    import helper
                    helper.divide(2)
                except ZeroDivisionError:
                    traceback.print_exc()
                """);
        py.write("app/hook.py", """
                import sys, traceback
                def hook(t, v, tb):
                    print('hook', t.__name__, [(f.filename, f.name, f.line) for f in traceback.extract_tb(tb)])
                    print('same tb', v.__traceback__ is tb)
                sys.excepthook = hook
                import helper
                helper.divide(3)
                """);
        py.write("app/cgi_tb.py", """
                import warnings
                warnings.simplefilter('ignore', DeprecationWarning)
                import cgitb
                cgitb.enable(format='text')
                import helper
                helper.divide(4)
                """);
        py.write("app/exit.py", """
                import sys
                arg = sys.argv[1]
                print('out')
                sys.exit(int(arg) if arg.isdigit() else arg)
                """);
    }

    @ParameterizedTest
    @ValueSource(strings = {"boom", "imports_broken", "itself_broken", "caught", "hook", "cgi_tb"})
    void tracebacksAreThoseOfPlainPython(String name) throws Exception {
        String script = py.scripts.resolve("app/" + name + ".py").toString();
        PyRun plain = py.plain(script);
        for (int i = 0; i < 2; i++) {     // cold, then warm cache
            PyRun kiln = py.kiln("rw", "timestamp", script);
            assertThat(kiln.exit()).isEqualTo(plain.exit());
            assertThat(noDate(kiln.stdout())).isEqualTo(noDate(plain.stdout()));
            assertThat(kiln.userStderr()).isEqualTo(plain.stderr());
            assertThat(kiln.stderr() + kiln.stdout()).doesNotContain("kiln_").doesNotContain("frozen");
        }
    }

    private static String noDate(String s) {
        return s.replaceAll("\\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}", "<date>");
    }

    @Test
    void theComparedTracebackNamesTheScriptAndItsLine() throws Exception {
        // what the comparison above holds Kiln to: a real traceback, not two empty strings
        PyRun boom = py.plain(py.scripts.resolve("app/boom.py").toString());
        assertThat(boom.exit()).isEqualTo(1);
        assertThat(boom.stderr()).startsWith("Traceback (most recent call last):\n  File \""
                + py.scripts.resolve("app/boom.py") + "\", line 4, in <module>\n    helper.divide(1)\n");
    }

    @Test
    void anExcepthookSeesTheScriptsFramesOnly() throws Exception {
        String hook = py.scripts.resolve("app/hook.py").toString();
        assertThat(py.kiln("rw", "timestamp", hook).stdout()).startsWith("hook ZeroDivisionError [('" + hook
                + "', '<module>', 'helper.divide(3)'), ('").endsWith("'divide', 'return a / 0')]\nsame tb True\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "3", "bad news"})
    void exitCodesArePreserved(String arg) throws Exception {
        String script = py.scripts.resolve("app/exit.py").toString();
        PyRun plain = py.plain(script, arg);
        PyRun kiln = py.kiln("rw", "timestamp", script, arg);
        assertThat(kiln.exit()).isEqualTo(plain.exit());
        assertThat(kiln.stdout()).isEqualTo("out\n");
        assertThat(kiln.userStderr()).isEqualTo(plain.stderr());
    }

    @Test
    void sysExitWithAMessageExitsOneAndStillReportsStats() throws Exception {
        String script = py.scripts.resolve("app/exit.py").toString();
        assertThat(py.kiln("rw", "timestamp", script, "3").exit()).isEqualTo(3);
        PyRun msg = py.kiln("rw", "timestamp", script, "bad news");
        assertThat(msg.exit()).isEqualTo(1);
        assertThat(msg.userStderr()).isEqualTo("bad news\n");
        assertThat(msg.stats()).containsEntry("cached", 1L);      // stats still reported on sys.exit
    }
}
