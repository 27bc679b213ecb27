package dev.kiln.privsep;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

import dev.kiln.testing.Commands;
import dev.kiln.testing.EachRunMode;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.Poll;

/**
 * Only Kiln writes what Kiln runs: a script (the attacker, running as the script user) can neither plant bytecode
 * for another script nor change Kiln's runtime files, bytecode not owned by Kiln or writable by others is never
 * loaded, and a cache made unsafe while Kiln runs is seen within seconds.
 */
@EachRunMode
class CacheTamperingTest {
    private static final String VICTIM = "#!/usr/bin/python3\nprint('Content-Type: text/plain\\n')\nprint('genuine')\n";
    /** Writes bytecode that prints PLANTED where the victim's pyc goes, with the victim's mtime and size. */
    private static final String PLANT = """
            import importlib.util, importlib._bootstrap_external as ext, os, sys
            victim = sys.argv[1] if len(sys.argv) > 1 else os.environ['VICTIM']
            st = os.stat(victim)
            code = compile("print('Content-Type: text/plain\\\\n')\\nprint('PLANTED')\\n", victim, 'exec')
            data = ext._code_to_timestamp_pyc(code, int(st.st_mtime), st.st_size)
            pyc = importlib.util.cache_from_source(victim)
            try:
                os.makedirs(os.path.dirname(pyc), exist_ok=True)
                with open(pyc, 'wb') as f:
                    f.write(data)
                print('planted', pyc)
            except OSError as e:
                print('refused', e.errno)
            """;

    @Parameter
    String runMode;

    @TempDir
    Path temp;

    @Test
    void aScriptCannotPlantBytecodeForAnotherScript() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).start()) {
            Path victim = kiln.script("victim.py", VICTIM);
            kiln.script("attack.py", "#!/usr/bin/python3\nprint('Content-Type: text/plain\\n')\nimport os\n"
                    + "os.environ['VICTIM'] = " + ScriptUserTest.pyString(victim) + "\n" + PLANT);
            assertThat(kiln.get("/cgi-bin/victim.py").body()).contains("genuine");
            assertThat(kiln.get("/cgi-bin/attack.py").body()).contains("refused 13").doesNotContain("planted");
            assertThat(kiln.get("/cgi-bin/victim.py").body()).contains("genuine").doesNotContain("PLANTED");
        }
    }

    @Test
    void bytecodeOwnedBySomeoneElseOrWritableByOthersIsNeverLoaded() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).start()) {
            Path victim = kiln.script("victim.py", VICTIM);
            assertThat(kiln.get("/cgi-bin/victim.py").body()).contains("genuine");
            Path prefix = Path.of(kiln.status().path("cache").path("prefix").asText());
            // root plants it (as a local user who found a way in would): a valid pyc, the victim's header
            String planted = Commands.of(KilnTestServer.DEBIAN_PYTHON, "-c", PLANT, victim.toString())
                    .env(e -> e.put("PYTHONPYCACHEPREFIX", prefix.toString())).ok();
            Path pyc = Path.of(planted.strip().substring("planted ".length()));
            Commands.of("chown", "nobody", pyc.toString()).ok();
            assertThat(kiln.get("/cgi-bin/victim.py").body()).as("owned by nobody").contains("genuine")
                    .doesNotContain("PLANTED");
            Commands.of("chown", "root", pyc.toString()).ok();
            Commands.of(KilnTestServer.DEBIAN_PYTHON, "-c", PLANT, victim.toString())
                    .env(e -> e.put("PYTHONPYCACHEPREFIX", prefix.toString())).ok();
            Files.setPosixFilePermissions(pyc, PosixFilePermissions.fromString("rw-rw-rw-"));
            assertThat(kiln.get("/cgi-bin/victim.py").body()).as("writable by others").contains("genuine")
                    .doesNotContain("PLANTED");
        }
    }

    @Test
    void everythingInTheCacheHasTheModesTheReadmeStatesTheStandardLibrarysPycsIncluded() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).start()) {
            kiln.script("helper.py", "VALUE = 1\n");
            kiln.script("app.py", "#!/usr/bin/python3\nimport json, email.message, urllib.parse, helper\n"
                    + "print('Content-Type: text/plain\\n')\nprint(helper.VALUE)\n");
            kiln.script("lib/app2.py", "#!/usr/bin/python3\nimport csv, decimal\n"
                    + "print('Content-Type: text/plain\\n')\nprint(1)\n");
            for (int i = 0; i < 2; i++) {
                assertThat(kiln.get("/cgi-bin/app.py").body()).isEqualTo("1\n");
                assertThat(kiln.get("/cgi-bin/lib/app2.py").body()).isEqualTo("1\n");
            }
            // owner root, group nogroup; files 0640, folders 2750: the script user reads, nobody else, no one writes
            String odd = Commands.of("find", temp.resolve("cache").toString(), "-not", "(", "-type", "f", "-perm",
                    "640", "-user", "root", "-group", "nogroup", ")", "-not", "(", "-type", "d", "-perm", "2750",
                    "-user", "root", "-group", "nogroup", ")").ok();
            assertThat(odd).as("files or folders with other modes or owners").isEmpty();
            assertThat(Commands.of("find", temp.resolve("cache/py").toString(), "-name", "*.pyc", "-path",
                    "*/usr/lib/python3*").ok()).as("standard library pycs are there to check").isNotEmpty();
        }
    }

    @Test
    void aScriptCannotChangeKilnsRuntimeFiles() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).start()) {
            Path runtime = temp.resolve("cache/runtime");
            kiln.script("edit.py", "#!/usr/bin/python3\nprint('Content-Type: text/plain\\n')\n"
                    + "for name in ('kiln_loader.py', 'kiln_boot.py', 'planted.py'):\n"
                    + "    try:\n        open(" + ScriptUserTest.pyString(runtime) + " + '/' + name, 'a')"
                    + ".write('print(\"PLANTED\")\\n')\n        print('edited', name)\n"
                    + "    except OSError as e:\n        print('refused', name, e.errno)\n");
            kiln.script("hello.py", "#!/usr/bin/python3\nprint('Content-Type: text/plain\\n')\nprint('hello')\n");
            assertThat(kiln.get("/cgi-bin/edit.py").body()).doesNotContain("edited")
                    .contains("refused kiln_loader.py 13").contains("refused kiln_boot.py 13")
                    .contains("refused planted.py 13");
            assertThat(kiln.get("/cgi-bin/hello.py").body()).isEqualTo("hello\n");
            assertThat(Files.readString(runtime.resolve("kiln_loader.py"))).doesNotContain("PLANTED");
        }
    }

    @Test
    void aCacheMadeWritableByOthersWhileKilnRunsIsSeenWithinSeconds() throws Exception {
        try (LogCapture logs = LogCapture.capture();
             KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).start()) {
            kiln.script("hello.py", "#!/usr/bin/python3\nprint('Content-Type: text/plain\\n')\nprint('hello')\n");
            assertThat(kiln.get("/cgi-bin/hello.py").body()).isEqualTo("hello\n");
            Path cache = temp.resolve("cache");
            for (Path loosened : List.of(cache, cache.resolve("runtime"))) {
                String before = Commands.of("stat", "-c", "%a", loosened.toString()).ok().strip();
                Files.setPosixFilePermissions(loosened, PosixFilePermissions.fromString("rwxrwxrwx"));
                Poll.withinMillis(3000).every(Duration.ofMillis(100)).until(loosened + " reported unhealthy",
                        () -> !kiln.status().path("cache").path("healthy").booleanValue());
                assertThat(logs.await(3000, "ERROR", loosened.toString(), "writable by other users", "fix:"))
                        .isNotEmpty();
                assertThat(kiln.get("/cgi-bin/hello.py").body()).as("still served, uncached").isEqualTo("hello\n");
                Commands.of("chmod", before, loosened.toString()).ok();
                Poll.withinMillis(3000).every(Duration.ofMillis(100)).until(loosened + " healthy again",
                        () -> kiln.status().path("cache").path("healthy").booleanValue());
            }
        }
    }
}
