package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.Bytecode;

/** Kiln's bytecode cache from kiln_boot.py: compiled once, reused unchanged, always next to nothing but itself. */
class BootCacheTest extends BootSuite {
    @Test
    void secondRunCompilesNothingAndRewritesNoPyc() throws Exception {
        py.write("app/helper.py", "X = 1\n");
        py.write("app/other.py", "Y = 2\n");
        String script = py.write("app/main.py", "import helper, other, json\nprint(helper.X + other.Y)\n");
        for (String f : new String[] {"app/helper.py", "app/other.py", "app/main.py"}) {
            // settled sources get timestamp pycs (one modified in the last seconds gets a checked-hash one)
            Files.setLastModifiedTime(py.scripts.resolve(f), FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        }
        PyRun first = py.kiln("rw", "timestamp", script);
        assertThat(first.stdout()).isEqualTo("3\n");
        assertThat(first.stats()).containsEntry("compiled", 3L).containsEntry("cached", 0L);
        assertThat(first.stats().get("shipped")).isPositive();     // json from the stdlib's own __pycache__
        Map<Path, String> before = py.pycsOfScripts();
        assertThat(before).hasSize(3);

        PyRun second = py.kiln("rw", "timestamp", script);
        assertThat(second.stdout()).isEqualTo("3\n");
        assertThat(second.stats()).containsEntry("compiled", 0L).containsEntry("cached", 3L)
                .containsEntry("compile_us", 0L);
        assertThat(py.pycsOfScripts()).isEqualTo(before);
        assertThat(second.stderr()).doesNotContain("cache-error");
        for (Path pyc : before.keySet()) {
            assertThat(Files.getPosixFilePermissions(pyc)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(Files.getPosixFilePermissions(pyc.getParent()))
                    .isEqualTo(PosixFilePermissions.fromString("rwx------"));
            assertThat(BootRuntime.pycFlags(pyc)).isZero();
        }
        Bytecode.assertNoneUnder(py.scripts);
    }

    @Test
    void anEntryScriptWithoutPyExtensionDoesNotShareTheModulesPyc() throws Exception {
        py.write("cgi/report.py", "X = 'module'\n");
        String script = py.write("cgi/report.cgi", "#!/usr/bin/python3\nimport report\nprint('script', report.X)\n");
        Files.setLastModifiedTime(Path.of(script), Files.getLastModifiedTime(py.scripts.resolve("cgi/report.py")));
        PyRun first = py.kiln("rw", "timestamp", script);
        assertThat(first.stdout()).isEqualTo("script module\n");
        assertThat(first.stats()).containsEntry("compiled", 2L);
        PyRun second = py.kiln("rw", "timestamp", script);
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
            assertThat(BootRuntime.pycFlags(pyc)).as(pyc.toString()).isEqualTo(0b11);
        }
        PyRun warm = py.kiln("rw", "checked-hash", script);
        assertThat(warm.stats()).containsEntry("compiled", 0L).containsEntry("cached", 2L);

        // Same size, same mtime, other content: only the hash can tell.
        FileTime mtime = Files.getLastModifiedTime(helper);
        py.write("app/helper.py", "X = 2\n");
        Files.setLastModifiedTime(helper, mtime);
        PyRun edited = py.kiln("rw", "checked-hash", script);
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
        PyRun edited = py.kiln("rw", "timestamp", script);
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
        Bytecode.assertNoneUnder(py.scripts);
        assertThat(py.pycsOfScripts()).hasSize(2);      // flips and helper, both in the prefix

        // A planted __pycache__ pyc that matches helper.py's mtime and size: plain Python would use it.
        Files.delete(py.pycsOfScripts().keySet().stream().filter(p -> p.toString().contains("helper"))
                .findFirst().orElseThrow());
        Path helper = py.scripts.resolve("app/helper.py");
        PyRun plant = py.run(List.of(BootRuntime.PYTHON, "-c", """
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
        PyRun kiln = py.kiln("rw", "timestamp", flips);
        assertThat(kiln.stdout()).isEqualTo("real\n");
        assertThat(kiln.stats()).containsEntry("compiled", 1L).containsEntry("cached", 1L);
    }
}
