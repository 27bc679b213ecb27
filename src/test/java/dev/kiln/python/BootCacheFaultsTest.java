package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.Commands;

/** A cache Kiln cannot write, or a script that asks for none: reported once per cause, the script still runs. */
class BootCacheFaultsTest extends BootSuite {
    @Test
    void unwritablePrefixIsReportedAndTheScriptStillRuns() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is needed");
        assumeTrue("root".equals(System.getProperty("user.name")), "must run as root to switch to nobody");
        py.write("app/helper.py", "X = 40\n");
        String script = py.write("app/main.py", "import helper\nprint(helper.X + 2)\n");
        py.openToEveryone();
        Files.createDirectories(py.prefix);
        Files.setPosixFilePermissions(py.prefix, PosixFilePermissions.fromString("rwxr-xr-x"));  // root's

        List<String> cmd = new ArrayList<>(Commands.AS_NOBODY);
        cmd.addAll(py.kilnCommand("rw", "timestamp", script));
        for (int i = 0; i < 2; i++) {
            PyRun run = py.run(cmd, Map.of("PYTHONPYCACHEPREFIX", py.prefix.toString()));
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
        PyRun run = py.kiln("rw", "timestamp", script);
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
        PyRun run = py.run(cmd, Map.of("PYTHONPYCACHEPREFIX", py.prefix.toString()));
        assertThat(run.stdout()).isEqualTo("1\n");
        assertThat(run.stats()).containsEntry("compiled", 2L);
        assertThat(py.pycsOfScripts()).isEmpty();
    }
}
