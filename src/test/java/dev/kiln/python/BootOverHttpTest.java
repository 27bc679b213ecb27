package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

import dev.kiln.testing.Commands;
import dev.kiln.testing.EachRunMode;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;

/**
 * The bootstrap seen from a served request: a Python script run by Kiln for HTTP sees what plain
 * {@code python3 script.py} gives it, and fails with plain Python's traceback, whatever the run mode.
 */
@EachRunMode
class BootOverHttpTest {
    /** After the CGI head, what a script can tell about how it was started. */
    static final String PROBE = """
            #!/usr/bin/python3
            \"\"\"The probe's docstring.\"\"\"
            import sys
            import helper
            if 'GATEWAY_INTERFACE' in __import__('os').environ:
                print('Content-Type: text/plain')
                print()
            g = dict(globals())
            print(sorted(g))
            print(__name__, __file__, __doc__, __package__, __spec__ is None or __spec__.name)
            print(type(__loader__).__module__, type(__loader__).__name__, __loader__.name, __loader__.path)
            print(__builtins__ is __import__('builtins'), sys.modules['__main__'] is sys.modules[__name__])
            print(sys.argv, sys.path[0])
            print(sorted(m for m in sys.modules if 'kiln' in m))
            print(helper.VALUE, helper.__file__)
            print(sys.stdout.line_buffering, sys.stdin.isatty(), sys.flags.dont_write_bytecode)
            """;

    @Parameter
    String runMode;
    @TempDir
    Path temp;

    @Test
    void aServedScriptSeesWhatPlainPythonGives() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).start()) {
            kiln.script("app/helper.py", "VALUE = 'from helper'\n");
            Path probe = kiln.script("app/probe.py", PROBE).toRealPath();
            // plain Python writes bytecode too, but elsewhere: the scripts folder stays Kiln's to keep clean
            String plain = Commands.of(BootRuntime.PYTHON, probe.toString()).in(probe.getParent())
                    .cleanEnv(Map.of("PYTHONPYCACHEPREFIX", temp.resolve("plain-cache").toString())).ok();
            for (int i = 0; i < 2; i++) {     // cold, then warm cache
                HttpResponse<String> r = kiln.get("/cgi-bin/app/probe.py");
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(plain);
            }
            assertThat(plain).contains("__main__ " + probe + " The probe's docstring.")
                    .contains("['" + probe + "'] " + probe.getParent()).contains("from helper " + probe.getParent());
        }
    }

    @Test
    void aFailingScriptsTracebackIsLoggedAsPlainPythonPrintsIt() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).start();
             LogCapture logs = LogCapture.capture()) {
            kiln.script("app/helper.py", "def divide(a):\n    return a / 0\n");
            Path boom = kiln.script("app/boom.py", "#!/usr/bin/python3\nimport sys, helper\n"
                    + "print('Content-Type: text/plain\\n\\nstarted', flush=True)\nhelper.divide(1)\n").toRealPath();
            Commands.Result plain = Commands.of(BootRuntime.PYTHON, boom.toString()).in(boom.getParent())
                    .cleanEnv(Map.of("PYTHONDONTWRITEBYTECODE", "1")).run();
            assertThat(plain.exit()).isEqualTo(1);
            List<String> expected = plain.stderr().lines().toList();
            assertThat(expected.get(0)).isEqualTo("Traceback (most recent call last):");

            HttpResponse<String> r = kiln.get("/cgi-bin/app/boom.py");
            assertThat(r.body()).isEqualTo("started\n");
            String logger = "[kiln.script.app/boom.py] ";
            logs.await(3000, logger + expected.get(expected.size() - 1));
            assertThat(logs.matching(logger)).extracting(l -> l.substring(l.indexOf(logger) + logger.length()))
                    .containsExactlyElementsOf(expected);
        }
    }
}
