package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the real {@code /usr/bin/python3} on kiln_boot.py / kiln_loader.py, as Kiln does, and compares what a
 * script sees and prints with a plain {@code python3 script.py}.
 */
class BootstrapTest {
    static final String PYTHON = "/usr/bin/python3";
    static final String MARKER = "\u001ekiln:";

    @TempDir
    Path base;

    Py py;

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is needed");
        py = new Py(base);
    }

    // ------------------------------------------------------------------ identity

    @Test
    void scriptSeesExactlyWhatPlainPythonGives() throws Exception {
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
        for (String script : List.of("app/probe.py", "alias/probe.py")) {
            String path = py.scripts.resolve(script).toString();
            Run plain = py.plain(path, "one", "two words");
            Run cold = py.kiln("rw", "timestamp", path, "one", "two words");
            Run warm = py.kiln("rw", "timestamp", path, "one", "two words");
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
    }

    private static String withoutCached(String probeOutput) {
        return probeOutput.replaceAll("(from helper \\S+) \\S+\\n", "$1 <cached>\n");
    }

    @Test
    void siblingImportAndOffModeWork() throws Exception {
        py.write("app/helper.py", "def greet(n):\n    return 'hello ' + n\n");
        String script = py.write("app/main.py", "import helper, sys\nprint(helper.greet(sys.argv[1]))\n");
        for (String mode : List.of("rw", "ro", "off")) {
            Run run = py.kiln(mode, "timestamp", script, "kiln");
            assertThat(run.exit()).as(run.stderr()).isZero();
            assertThat(run.stdout()).isEqualTo("hello kiln\n");
        }
        Run off = py.kiln("off", "timestamp", script, "x");
        assertThat(off.stats()).containsEntry("compiled", 1L).containsEntry("cached", 0L)
                .containsEntry("shipped", 0L);
        assertThat(py.noPycacheUnderScripts()).isTrue();
    }

    // ------------------------------------------------------------------ errors

    @Test
    void tracebacksAreThoseOfPlainPython() throws Exception {
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
        for (String name : List.of("boom", "imports_broken", "itself_broken", "caught", "hook", "cgi_tb")) {
            String script = py.scripts.resolve("app/" + name + ".py").toString();
            Run plain = py.plain(script);
            for (int i = 0; i < 2; i++) {     // cold, then warm cache
                Run kiln = py.kiln("rw", "timestamp", script);
                assertThat(kiln.exit()).as(name).isEqualTo(plain.exit());
                assertThat(noDate(kiln.stdout())).as(name).isEqualTo(noDate(plain.stdout()));
                assertThat(kiln.userStderr()).as(name).isEqualTo(plain.stderr());
                assertThat(kiln.stderr() + kiln.stdout()).as(name).doesNotContain("kiln_").doesNotContain("frozen");
            }
        }
        Run boom = py.plain(py.scripts.resolve("app/boom.py").toString());
        assertThat(boom.exit()).isEqualTo(1);
        assertThat(boom.stderr()).startsWith("Traceback (most recent call last):\n  File \""
                + py.scripts.resolve("app/boom.py") + "\", line 4, in <module>\n    helper.divide(1)\n");
        String hook = py.scripts.resolve("app/hook.py").toString();
        assertThat(py.kiln("rw", "timestamp", hook).stdout()).startsWith("hook ZeroDivisionError [('" + hook
                + "', '<module>', 'helper.divide(3)'), ('").endsWith("'divide', 'return a / 0')]\nsame tb True\n");
    }

    private static String noDate(String s) {
        return s.replaceAll("\\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}", "<date>");
    }

    @Test
    void exitCodesArePreserved() throws Exception {
        String script = py.write("app/exit.py", """
                import sys
                arg = sys.argv[1]
                print('out')
                sys.exit(int(arg) if arg.isdigit() else arg)
                """);
        for (String arg : List.of("0", "3", "bad news")) {
            Run plain = py.plain(script, arg);
            Run kiln = py.kiln("rw", "timestamp", script, arg);
            assertThat(kiln.exit()).isEqualTo(plain.exit());
            assertThat(kiln.stdout()).isEqualTo("out\n");
            assertThat(kiln.userStderr()).isEqualTo(plain.stderr());
        }
        assertThat(py.kiln("rw", "timestamp", script, "3").exit()).isEqualTo(3);
        Run msg = py.kiln("rw", "timestamp", script, "bad news");
        assertThat(msg.exit()).isEqualTo(1);
        assertThat(msg.userStderr()).isEqualTo("bad news\n");
        assertThat(msg.stats()).containsEntry("cached", 1L);      // stats still reported on sys.exit
    }

    // ------------------------------------------------------------------ the cache

    @Test
    void secondRunCompilesNothingAndRewritesNoPyc() throws Exception {
        py.write("app/helper.py", "X = 1\n");
        py.write("app/other.py", "Y = 2\n");
        String script = py.write("app/main.py", "import helper, other, json\nprint(helper.X + other.Y)\n");
        Run first = py.kiln("rw", "timestamp", script);
        assertThat(first.stdout()).isEqualTo("3\n");
        assertThat(first.stats()).containsEntry("compiled", 3L).containsEntry("cached", 0L);
        assertThat(first.stats().get("shipped")).isPositive();     // json from the stdlib's own __pycache__
        Map<Path, String> before = py.pycsOfScripts();
        assertThat(before).hasSize(3);

        Run second = py.kiln("rw", "timestamp", script);
        assertThat(second.stdout()).isEqualTo("3\n");
        assertThat(second.stats()).containsEntry("compiled", 0L).containsEntry("cached", 3L)
                .containsEntry("compile_us", 0L);
        assertThat(py.pycsOfScripts()).isEqualTo(before);
        assertThat(second.stderr()).doesNotContain("cache-error");
        for (Path pyc : before.keySet()) {
            assertThat(Files.getPosixFilePermissions(pyc)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(Files.getPosixFilePermissions(pyc.getParent()))
                    .isEqualTo(PosixFilePermissions.fromString("rwx------"));
            assertThat(pycFlags(pyc)).isZero();
        }
        assertThat(py.noPycacheUnderScripts()).isTrue();
    }

    @Test
    void anEntryScriptWithoutPyExtensionDoesNotShareTheModulesPyc() throws Exception {
        py.write("cgi/report.py", "X = 'module'\n");
        String script = py.write("cgi/report.cgi", "#!/usr/bin/python3\nimport report\nprint('script', report.X)\n");
        Files.setLastModifiedTime(Path.of(script), Files.getLastModifiedTime(py.scripts.resolve("cgi/report.py")));
        Run first = py.kiln("rw", "timestamp", script);
        assertThat(first.stdout()).isEqualTo("script module\n");
        assertThat(first.stats()).containsEntry("compiled", 2L);
        Run second = py.kiln("rw", "timestamp", script);
        assertThat(second.stdout()).isEqualTo("script module\n");
        assertThat(second.stats()).containsEntry("compiled", 0L).containsEntry("cached", 2L);
        assertThat(py.pycsOfScripts()).hasSize(2);
    }

    @Test
    void checkedHashPycsAreWrittenWhenAsked() throws Exception {
        Path helper = py.scripts.resolve("app/helper.py");
        py.write("app/helper.py", "X = 1\n");
        String script = py.write("app/main.py", "import helper\nprint(helper.X)\n");
        assertThat(py.kiln("rw", "checked-hash", script).stdout()).isEqualTo("1\n");
        Map<Path, String> pycs = py.pycsOfScripts();
        assertThat(pycs).hasSize(2);
        for (Path pyc : pycs.keySet()) {
            assertThat(pycFlags(pyc)).as(pyc.toString()).isEqualTo(0b11);
        }
        Run warm = py.kiln("rw", "checked-hash", script);
        assertThat(warm.stats()).containsEntry("compiled", 0L).containsEntry("cached", 2L);

        // Same size, same mtime, other content: only the hash can tell.
        FileTime mtime = Files.getLastModifiedTime(helper);
        py.write("app/helper.py", "X = 2\n");
        Files.setLastModifiedTime(helper, mtime);
        Run edited = py.kiln("rw", "checked-hash", script);
        assertThat(edited.stdout()).isEqualTo("2\n");
        assertThat(edited.stats()).containsEntry("compiled", 1L).containsEntry("cached", 1L);
    }

    @Test
    void editedModuleIsPickedUpOnTheNextRun() throws Exception {
        Path helper = py.scripts.resolve("app/helper.py");
        py.write("app/helper.py", "X = 'v1'\n");
        String script = py.write("app/main.py", "import helper\nprint(helper.X)\n");
        assertThat(py.kiln("rw", "timestamp", script).stdout()).isEqualTo("v1\n");
        assertThat(py.kiln("rw", "timestamp", script).stats()).containsEntry("compiled", 0L);

        FileTime old = Files.getLastModifiedTime(helper);
        py.write("app/helper.py", "X = 'version 2'\n");
        Files.setLastModifiedTime(helper, FileTime.fromMillis(old.toMillis() + 5_000));
        Run edited = py.kiln("rw", "timestamp", script);
        assertThat(edited.stdout()).isEqualTo("version 2\n");
        assertThat(edited.stats()).containsEntry("compiled", 1L).containsEntry("cached", 1L);
        assertThat(py.kiln("rw", "timestamp", script).stats()).containsEntry("compiled", 0L)
                .containsEntry("cached", 2L);
    }

    @Test
    void neverWritesNorReadsAPycacheInTheScriptsFolder() throws Exception {
        py.write("app/helper.py", "X = 'real'\n");
        String flips = py.write("app/flips.py", """
                import sys
                sys.dont_write_bytecode = False      # Kiln owns the cache: ignored
                import helper
                print(helper.X)
                """);
        String script = py.write("app/main.py", "import helper\nprint(helper.X)\n");
        for (String mode : List.of("rw", "ro")) {
            assertThat(py.kiln(mode, "timestamp", flips).stdout()).isEqualTo("real\n");
        }
        assertThat(py.kiln("off", "timestamp", script).stdout()).isEqualTo("real\n");
        assertThat(py.noPycacheUnderScripts()).isTrue();
        assertThat(py.pycsOfScripts()).hasSize(2);      // flips and helper, both in the prefix

        // A planted __pycache__ pyc that matches helper.py's mtime and size: plain Python would use it.
        Files.delete(py.pycsOfScripts().keySet().stream().filter(p -> p.toString().contains("helper"))
                .findFirst().orElseThrow());
        Path helper = py.scripts.resolve("app/helper.py");
        Run plant = py.run(List.of(PYTHON, "-c", """
                import sys, os, importlib._bootstrap_external as e, importlib.util
                src = sys.argv[1]
                st = os.stat(src)
                code = compile("X = 'planted'\\n", src, 'exec')
                pyc = importlib.util.cache_from_source(src)
                os.makedirs(os.path.dirname(pyc), exist_ok=True)
                open(pyc, 'wb').write(e._code_to_timestamp_pyc(code, int(st.st_mtime), st.st_size))
                """, helper.toString()), Map.of());
        assertThat(plant.exit()).as(plant.stderr()).isZero();
        assertThat(py.plain(script).stdout()).isEqualTo("planted\n");        // it is a valid pyc
        Run kiln = py.kiln("rw", "timestamp", flips);
        assertThat(kiln.stdout()).isEqualTo("real\n");
        assertThat(kiln.stats()).containsEntry("compiled", 1L).containsEntry("cached", 1L);
    }

    @Test
    void unwritablePrefixIsReportedAndTheScriptStillRuns() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is needed");
        assumeTrue("root".equals(System.getProperty("user.name")), "must run as root to switch to nobody");
        py.write("app/helper.py", "X = 40\n");
        String script = py.write("app/main.py", "import helper\nprint(helper.X + 2)\n");
        py.openToEveryone();
        Files.createDirectories(py.prefix);
        Files.setPosixFilePermissions(py.prefix, PosixFilePermissions.fromString("rwxr-xr-x"));  // root's

        List<String> cmd = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups"));
        cmd.addAll(py.kilnCommand("rw", "timestamp", script));
        for (int i = 0; i < 2; i++) {
            Run run = py.run(cmd, Map.of("PYTHONPYCACHEPREFIX", py.prefix.toString()));
            assertThat(run.exit()).as(run.stderr()).isZero();
            assertThat(run.stdout()).isEqualTo("42\n");
            List<String> errors = run.markers("cache-error");
            String top = py.prefix.resolve(base.getRoot().relativize(base).getName(0)).toString();
            assertThat(errors).containsExactly(
                    "cache-error op=mkdir errno=EACCES path=" + top + " dir=" + py.prefix);
            assertThat(run.stats()).containsEntry("compiled", 2L).containsEntry("cached", 0L);
            assertThat(run.userStderr()).isEmpty();
        }
        try (Stream<Path> files = Files.list(py.prefix)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void aFileWhereAFolderShouldBeIsReported() throws Exception {
        String script = py.write("app/main.py", "print('fine')\n");
        Path top = py.prefix.resolve(base.getRoot().relativize(base).getName(0));
        Files.createDirectories(py.prefix);
        Files.writeString(top, "not a folder");
        Run run = py.kiln("rw", "timestamp", script);
        assertThat(run.exit()).isZero();
        assertThat(run.stdout()).isEqualTo("fine\n");
        String pycDir = py.prefix + script.substring(0, script.lastIndexOf('/'));
        assertThat(run.markers("cache-error")).contains(
                "cache-error op=mkdir errno=ENOTDIR path=" + pycDir + " dir=" + top);
        assertThat(run.markers("cache-error")).allSatisfy(l -> assertThat(l).contains(" dir=" + top));
        assertThat(run.stats()).containsEntry("compiled", 1L);
        // ro mode reports nothing per request
        assertThat(py.kiln("ro", "timestamp", script).markers("cache-error")).isEmpty();
    }

    @Test
    void aDashBShebangFlagMeansNoWrites() throws Exception {
        py.write("app/helper.py", "X = 1\n");
        String script = py.write("app/main.py", "import helper\nprint(helper.X)\n");
        List<String> cmd = new ArrayList<>(py.kilnCommand("rw", "timestamp", script));
        cmd.add(1, "-B");
        Run run = py.run(cmd, Map.of("PYTHONPYCACHEPREFIX", py.prefix.toString()));
        assertThat(run.stdout()).isEqualTo("1\n");
        assertThat(run.stats()).containsEntry("compiled", 2L);
        assertThat(py.pycsOfScripts()).isEmpty();
    }

    @Test
    void singleFlightCompilesEachModuleOnce() throws Exception {
        int modules = 20;
        StringBuilder main = new StringBuilder("import os, time\n");
        main.append("while not os.path.exists(").append(pyStr(base.resolve("go").toString()))
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
        List<Path> outs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path out = base.resolve("out" + i);
            Path err = base.resolve("err" + i);
            outs.add(out);
            outs.add(err);
            procs.add(py.start(py.kilnCommand("rw", "timestamp", script),
                    Map.of("PYTHONPYCACHEPREFIX", py.prefix.toString()), out, err));
        }
        Thread.sleep(300);
        Files.writeString(base.resolve("go"), "");
        long compiled = 0;
        long cached = 0;
        for (int i = 0; i < n; i++) {
            assertThat(procs.get(i).waitFor(60, TimeUnit.SECONDS)).isTrue();
            Run run = new Run(procs.get(i).exitValue(), Files.readString(outs.get(2 * i)),
                    Files.readString(outs.get(2 * i + 1)));
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
        Run run = py.kiln("rw", "timestamp", script);
        assertThat(run.exit()).as(run.stderr()).isZero();
        assertThat(run.stdout()).isEqualTo("decoded\n");
        assertThat(run.stats()).containsEntry("compiled", 3L);
        assertThat(py.pycsOfScripts()).hasSize(3);
    }

    static String pyStr(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    static int pycFlags(Path pyc) throws IOException {
        byte[] head = Files.readAllBytes(pyc);
        return ByteBuffer.wrap(head, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    // ------------------------------------------------------------------ harness

    /** One finished process. */
    record Run(int exit, String stdout, String stderr) {
        private static final Pattern FIELD = Pattern.compile("(\\w+)=(\\d+)");

        List<String> markers(String kind) {
            return stderr.lines().filter(l -> l.startsWith(MARKER + kind + " "))
                    .map(l -> l.substring(MARKER.length())).collect(Collectors.toList());
        }

        Map<String, Long> stats() {
            List<String> lines = markers("stats");
            assertThat(lines).as("one stats line in " + stderr).hasSize(1);
            Map<String, Long> out = new LinkedHashMap<>();
            Matcher m = FIELD.matcher(lines.get(0));
            while (m.find()) {
                out.put(m.group(1), Long.parseLong(m.group(2)));
            }
            assertThat(out).containsOnlyKeys("compiled", "cached", "shipped", "compile_us");
            return out;
        }

        /** stderr without Kiln's own marker lines. */
        String userStderr() {
            return stderr.lines().filter(l -> !l.startsWith(MARKER))
                    .map(l -> l + "\n").collect(Collectors.joining());
        }
    }

    /** A runtime folder R, a scripts folder and a cache prefix inside one temporary folder. */
    static final class Py {
        final Path base;
        final Path runtime;
        final Path scripts;
        final Path prefix;

        Py(Path base) throws IOException {
            this.base = base;
            this.runtime = Files.createDirectories(base.resolve("R"));
            this.scripts = Files.createDirectories(base.resolve("scripts"));
            this.prefix = base.resolve("cache").resolve("py");
            for (String name : List.of("kiln_boot.py", "kiln_loader.py", "kiln_precompile.py", "kiln_protocol.py",
                    "kiln_pyc.py", "kiln_store.py")) {
                try (InputStream in = BootstrapTest.class.getResourceAsStream("/dev/kiln/python/" + name)) {
                    assertThat(in).as(name + " on the class path").isNotNull();
                    Files.copy(in, runtime.resolve(name));
                }
            }
        }

        String write(String relative, String text) throws IOException {
            Path file = scripts.resolve(relative);
            Files.createDirectories(file.getParent());
            Files.writeString(file, text);
            return file.toString();
        }

        List<String> kilnCommand(String mode, String validation, String script, String... args) {
            List<String> cmd = new ArrayList<>(List.of(PYTHON, runtime.resolve("kiln_boot.py").toString(), mode,
                    validation, scripts.toString(), script));
            cmd.addAll(List.of(args));
            return cmd;
        }

        Run kiln(String mode, String validation, String script, String... args) throws Exception {
            Map<String, String> env = mode.equals("off")
                    ? Map.of("PYTHONDONTWRITEBYTECODE", "1")
                    : Map.of("PYTHONPYCACHEPREFIX", prefix.toString());
            return run(kilnCommand(mode, validation, script, args), env);
        }

        Run plain(String script, String... args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(PYTHON, script));
            cmd.addAll(List.of(args));
            return run(cmd, Map.of("PYTHONDONTWRITEBYTECODE", "1"));
        }

        Process start(List<String> cmd, Map<String, String> env, Path out, Path err) throws IOException {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(base.toFile());
            pb.environment().clear();
            pb.environment().put("PATH", "/usr/bin:/bin");
            pb.environment().putAll(env);
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.redirectOutput(out.toFile());
            pb.redirectError(err.toFile());
            return pb.start();
        }

        Run run(List<String> cmd, Map<String, String> env) throws Exception {
            Path out = Files.createTempFile(base, "out", ".txt");
            Path err = Files.createTempFile(base, "err", ".txt");
            Process p = start(cmd, env, out, err);
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
            Run run = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            return run;
        }

        /** The pycs of the scripts folder under the prefix, with inode and mtime. */
        Map<Path, String> pycsOfScripts() throws IOException {
            Path dir = Path.of(prefix + scripts.toString());
            Map<Path, String> out = new HashMap<>();
            if (!Files.isDirectory(dir)) {
                return out;
            }
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.filter(f -> f.toString().endsWith(".pyc")).collect(Collectors.toList())) {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    out.put(p, a.fileKey() + " " + a.lastModifiedTime() + " " + a.size());
                }
            }
            return out;
        }

        boolean noPycacheUnderScripts() throws IOException {
            try (Stream<Path> files = Files.walk(scripts)) {
                List<Path> found = files.filter(p -> p.getFileName().toString().equals("__pycache__")
                        || p.toString().endsWith(".pyc")).collect(Collectors.toList());
                assertThat(found).as("bytecode under the scripts folder").isEmpty();
                return found.isEmpty();
            }
        }

        /** Lets user nobody read the runtime and the scripts (a @TempDir is private to root). */
        void openToEveryone() throws IOException {
            try (Stream<Path> all = Files.walk(base)) {
                all.forEach(f -> {
                    try {
                        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(
                                Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
    }
}
