package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.testing.Bytecode;


/**
 * Runs the real {@code /usr/bin/python3} on Kiln's Python modules themselves: kiln_protocol's lines and
 * arguments, kiln_loader's configure()/run_main() in a forked child, the bytecode cache's writer loaded only
 * when needed, and a CPython that lacks one of the private names kiln_pyc borrows.
 */
class LoaderModulesTest {
    @TempDir
    Path base;

    BootRuntime py;

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(Files.isExecutable(Path.of(BootRuntime.PYTHON)), BootRuntime.PYTHON + " is needed");
        py = new BootRuntime(base);
    }

    /** Runs Python code with Kiln's runtime folder first on sys.path. */
    private PyRun python(String code, Map<String, String> env) throws Exception {
        return py.run(List.of(BootRuntime.PYTHON, "-c", "import sys\nsys.path.insert(0, "
                + BootRuntime.pyStr(py.runtime.toString()) + ")\n" + code), env);
    }

    private PyRun python(String code) throws Exception {
        return python(code, Map.of());
    }

    @Test
    void protocolLinesAreTheWireFormat() throws Exception {
        PyRun run = python("""
                import kiln_protocol as p
                sys.stdout.write(p.stats_line(3, 14, 159, 2653))
                sys.stdout.write(p.cache_error_line('mkdir', 'EACCES', '/c/py/a\\nb', '/c/py'))
                sys.stdout.write(p.event_line('error', message='SyntaxError: x', path='/s/a.py', line=None))
                sys.stdout.write(p.event_line('summary', scripts=2, compiled=1, fresh=0, errors=1))
                print(p.MARKER == '\\x1ekiln:', p.MODES, p.VALIDATIONS, p.CACHE_OPS)
                for event, fields in (('nope', {}), ('compiled', {'path': 'a', 'line': 1})):
                    try:
                        p.event_line(event, **fields)
                    except ValueError as exc:
                        print('ValueError:', exc)
                """);
        assertThat(run.exit()).as(run.stderr()).isZero();
        assertThat(run.stdout()).isEqualTo(PyRun.MARKER + "stats compiled=3 cached=14 shipped=159 compile_us=2653\n"
                + PyRun.MARKER + "cache-error op=mkdir errno=EACCES path=/c/py/a%0Ab dir=/c/py\n"
                + "{\"event\": \"error\", \"path\": \"/s/a.py\", \"line\": null, \"message\": \"SyntaxError: x\"}\n"
                + "{\"event\": \"summary\", \"scripts\": 2, \"compiled\": 1, \"fresh\": 0, \"errors\": 1}\n"
                + "True ('rw', 'ro', 'off') ('timestamp', 'checked-hash') ('mkdir', 'read', 'write', 'lock')\n"
                + "ValueError: unknown event 'nope'\n"
                + "ValueError: event 'compiled' takes the fields path, not line, path\n");
    }

    @Test
    void argumentsAreParsedByPositionAndCheckedAsKilnBootDoes() throws Exception {
        PyRun run = python("""
                import kiln_protocol as p
                b = p.parse_boot_args(['ro', 'checked-hash', '/srv', '/srv/a.py', 'x', 'y z'])
                print(b, b.mode, b.args, tuple(b)[3], b._fields)
                print(p.parse_precompile_args(['timestamp', '/srv', '/srv/a.py', '/srv/b.py']))
                for parse, argv in ((p.parse_boot_args, ['rw', 'timestamp', '/srv']),
                                    (p.parse_boot_args, ['wr', 'nope', '/srv', 'a.py']),
                                    (p.parse_boot_args, ['rw', 'nope', '/srv', 'a.py']),
                                    (p.parse_precompile_args, ['timestamp', '/srv']),
                                    (p.parse_precompile_args, ['ts', '/srv', 'a.py'])):
                    try:
                        parse(argv)
                    except ValueError as exc:
                        print(exc)
                """);
        assertThat(run.exit()).as(run.stderr()).isZero();
        assertThat(run.stdout()).isEqualTo("""
                BootArgs(mode='ro', validation='checked-hash', root='/srv', script='/srv/a.py', args=['x', 'y z']) \
                ro ['x', 'y z'] /srv/a.py ('mode', 'validation', 'root', 'script', 'args')
                PrecompileArgs(validation='timestamp', root='/srv', scripts=['/srv/a.py', '/srv/b.py'])
                usage: kiln_boot.py <rw|ro|off> <timestamp|checked-hash> <scripts-root> <script> [args...]
                kiln_boot.py: mode must be rw, ro or off, not 'wr'
                kiln_boot.py: validation must be timestamp or checked-hash, not 'nope'
                usage: kiln_precompile.py <timestamp|checked-hash> <scripts-root> <entry-script>...
                kiln_precompile.py: validation must be timestamp or checked-hash, not 'ts'
                """);
        // kiln_boot.py prints the same lines and exits with status 2
        PyRun usage = py.run(List.of(BootRuntime.PYTHON, py.runtime.resolve("kiln_boot.py").toString(), "wr",
                "timestamp", py.scripts.toString(), "a.py"), Map.of());
        assertThat(usage.exit()).isEqualTo(2);
        assertThat(usage.stderr()).isEqualTo("kiln_boot.py: mode must be rw, ro or off, not 'wr'\n");
    }

    @Test
    void runMainInAForkedChildRunsTheScriptAsKilnBootDoes() throws Exception {
        py.write("app/helper.py", "VALUE = 'from helper'\n");
        String probe = py.write("app/probe.py", """
                import sys
                import helper
                print(list(globals()))
                print(__name__, __file__, type(__loader__).__name__, __spec__, __cached__)
                print(sys.argv, sys.path[0], getattr(sys, 'orig_argv', None))
                print(sorted(m for m in sys.modules if 'kiln' in m), helper.VALUE)
                """);
        // What a fork server does: configure once, then run_main in each forked child.
        Path driver = base.resolve("server.py");
        Files.writeString(driver, "import os\nimport sys\nsys.path.insert(0, " + BootRuntime.pyStr(py.runtime.toString())
                + ")\nimport kiln_loader\ndel sys.path[0]\nmode = kiln_loader.configure('rw', 'timestamp', ["
                + BootRuntime.pyStr(py.scripts.toString()) + "])\n"
                + "for run in range(2):\n"
                + "    pid = os.fork()\n"
                + "    if pid == 0:\n"
                + "        kiln_loader.run_main(" + BootRuntime.pyStr(probe) + ", [" + BootRuntime.pyStr(probe)
                + ", 'one'])\n"
                + "        break\n"
                + "    os.waitpid(pid, 0)\n");
        PyRun served = py.run(List.of(BootRuntime.PYTHON, driver.toString()),
                Map.of("PYTHONPYCACHEPREFIX", py.prefix.toString()));
        PyRun plain = py.plain(probe, "one");
        assertThat(served.exit()).as(served.stderr()).isZero();
        assertThat(plain.exit()).as(plain.stderr()).isZero();
        assertThat(served.stdout()).isEqualTo(plain.stdout() + plain.stdout());
        assertThat(served.userStderr()).isEmpty();
        assertThat(served.markers("stats")).containsExactly(
                "stats compiled=2 cached=0 shipped=0 compile_us=" + compileUs(served, 0),
                "stats compiled=0 cached=2 shipped=0 compile_us=0");
        assertThat(py.pycsOfScripts()).hasSize(2);
        Bytecode.assertNoneUnder(py.scripts);
    }

    private static String compileUs(PyRun run, int index) {
        String line = run.markers("stats").get(index);
        return line.substring(line.lastIndexOf('=') + 1);
    }

    @Test
    void theWarmPathImportsOnlyWhatCpythonLoadedAtStartUpAndKilnsFourModules() throws Exception {
        String hello = py.write("app/hello.py", "print('hello')\n");
        Map<String, String> env = Map.of("PYTHONPYCACHEPREFIX", py.prefix.toString());
        Set<String> startUp = imported(py.run(List.of(BootRuntime.PYTHON, "-X", "importtime", "-c", "pass"), env));
        List<String> cmd = new ArrayList<>(py.kilnCommand("rw", "timestamp", hello));
        cmd.addAll(1, List.of("-X", "importtime"));
        assertThat(py.run(cmd, env).stdout()).isEqualTo("hello\n");        // cold: fills the cache
        PyRun warm = py.run(cmd, env);
        assertThat(warm.stdout()).isEqualTo("hello\n");
        Set<String> extra = imported(warm);
        extra.removeAll(startUp);
        assertThat(extra).containsExactlyInAnyOrder("kiln_loader", "kiln_pyc", "kiln_protocol", "kiln_importlib",
                "atexit");
        assertThat(warm.stats()).containsEntry("cached", 1L).containsEntry("compiled", 0L);
    }

    private static Set<String> imported(PyRun run) {
        return run.stderr().lines().filter(l -> l.startsWith("import time:") && !l.contains("| imported package"))
                .map(l -> l.substring(l.lastIndexOf('|') + 1).strip()).collect(Collectors.toSet());
    }

    @ParameterizedTest
    @ValueSource(strings = {"rw", "ro"})
    void theWriterIsLoadedOnceAndItsBytecodeWrittenInRwModeOnly(String mode) throws Exception {
        PyRun run = python("import kiln_loader, kiln_pyc, kiln_importlib\nprint(kiln_loader.configure('" + mode
                + "', 'timestamp', ''))\nstore = kiln_pyc.store()\n"
                + "print(store is kiln_pyc.store(), 'kiln_store' in sys.modules, store.kiln_protocol is not None,"
                + " store.write_atomic.__code__ in kiln_importlib.TRIMMED_CODES)\n",
                Map.of("PYTHONPYCACHEPREFIX", py.prefix.toString()));
        assertThat(run.exit()).as(run.stderr()).isZero();
        assertThat(run.stdout()).isEqualTo(mode + "\nTrue False True True\n");
        assertThat(storePycs()).hasSize(mode.equals("rw") ? 1 : 0);
    }

    private List<Path> storePycs() throws IOException {
        Path dir = Path.of(py.prefix + py.runtime.toString());
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("kiln_store.")).collect(Collectors.toList());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"_frozen_importlib_external._classify_pyc", "_imp._fix_co_filename",
            "_frozen_importlib._find_and_load"})
    void aCpythonWithoutAPrivateNameRunsScriptsUncachedAfterOneLine(String name) throws Exception {
        // A sitecustomize hides the name from Kiln the way a future CPython would, by a module without it
        // in sys.modules; CPython's own import system keeps the real module.
        Path site = Files.createDirectories(base.resolve("site"));
        Files.writeString(site.resolve("sitecustomize.py"), """
                import os, sys
                module, name = os.environ['HIDE'].rsplit('.', 1)
                real = sys.modules[module]
                fake = type(sys)(module)
                fake.__dict__.update((k, v) for k, v in vars(real).items() if k != name)
                sys.modules[module] = fake
                """);
        py.write("app/helper.py", "X = 41\n");
        String script = py.write("app/main.py", "import helper\nprint(helper.X + 1)\n");
        Map<String, String> env = Map.of("PYTHONPYCACHEPREFIX", py.prefix.toString(), "PYTHONPATH", site.toString(),
                "HIDE", name);
        String version = py.run(List.of(BootRuntime.PYTHON, "-c", "import sys; print(sys.version.split()[0])"),
                Map.of()).stdout().strip();
        String line = "kiln_loader.py: CPython " + version + " has no " + name
                + " (Kiln's loader knows CPython 3.8, 3.9, 3.10, 3.11, 3.12 and 3.13): scripts run without the"
                + " bytecode cache; run them with one of those or a Kiln that knows this one\n";
        for (int i = 0; i < 2; i++) {
            PyRun run = py.run(py.kilnCommand("rw", "timestamp", script), env);
            assertThat(run.exit()).as(run.stderr()).isZero();
            assertThat(run.stdout()).isEqualTo("42\n");
            assertThat(run.userStderr()).isEqualTo(line);
            // off mode: the script compiled in memory, helper by CPython's own loader
            assertThat(run.stats()).containsEntry("compiled", 1L).containsEntry("cached", 0L);
        }
        assertThat(py.pycsOfScripts()).isEmpty();
        Bytecode.assertNoneUnder(py.scripts);

        PyRun precompile = py.run(List.of(BootRuntime.PYTHON, py.runtime.resolve("kiln_precompile.py").toString(),
                "timestamp", py.scripts.toString(), script), env);
        assertThat(precompile.exit()).isEqualTo(2);
        assertThat(precompile.stderr()).isEqualTo(line);
        assertThat(precompile.stdout()).isEmpty();
    }
}
