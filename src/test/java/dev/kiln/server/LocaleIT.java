package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.kiln.testing.Commands;
import dev.kiln.testing.Json;
import dev.kiln.testing.KilnJar;
import dev.kiln.testing.KilnTestServer;

/**
 * Kiln started the way services start (systemd without Environment=LANG=, Debian's apache2 envvars): with
 * LANG=C or no locale at all. Whatever Kiln's own locale, scripts get every byte as sent.
 */
class LocaleIT {
    private static final String PATH_INFO = "/a b/café/✓";
    private static final String ENCODED = "/a%20b/caf%C3%A9/%E2%9C%93";
    private static final String PY = "#!/usr/bin/python3\nimport json, os, sys\n"
            + "print('Content-Type: application/json\\n')\n"
            + "print(json.dumps({k: os.environb[k.encode()].hex() for k in ('PATH_INFO', 'SCRIPT_FILENAME', 'GREETING')}"
            + " | {'argv0': os.fsencode(sys.argv[0]).hex(), 'blocked': open('/proc/self/status').read()"
            + ".split('SigBlk:')[1].split()[0]}))\n";
    private static final String SH = "#!/bin/sh\nprintf 'Content-Type: application/json\\n\\n'\n"
            + "printf '{\"PATH_INFO\": \"%s\", \"GREETING\": \"%s\"}' \"$(printf %s \"$PATH_INFO\" | od -An -tx1 | tr -d ' \\n')\""
            + " \"$(printf %s \"$GREETING\" | od -An -tx1 | tr -d ' \\n')\"\n";

    @TempDir
    Path temp;

    @ParameterizedTest(name = "Kiln with {0}")
    @CsvSource({"no locale variable, ", "LANG=C, C", "LANG=POSIX, POSIX"})
    void scriptsGetExactBytesWhateverKilnsLocale(String name, String lang) throws Exception {
        Path scripts = temp.resolve("cgi bin");
        KilnTestServer.writeScript(scripts, "show.py", PY);
        KilnTestServer.writeScript(scripts, "show.sh", SH);
        Path config = Files.writeString(temp.resolve("kiln.properties"), "env=GREETING=grüß dich\n",
                StandardCharsets.UTF_8);
        KilnJar.Builder b = KilnJar.builder().in(temp).args("--scripts", scripts.toString(), "--cache",
                temp.resolve("cache").toString(), "--config", config.toString());
        b.env("LANG", lang); // null: no locale variable at all
        try (KilnJar kiln = b.start()) {
            Map<String, String> py = Json.strings(kiln.getOk("/cgi-bin/show.py" + ENCODED));
            assertThat(py).containsEntry("PATH_INFO", hex(PATH_INFO))
                    .containsEntry("SCRIPT_FILENAME", hex(scripts.resolve("show.py").toString()))
                    .containsEntry("argv0", hex(scripts.resolve("show.py").toString()))
                    .containsEntry("GREETING", hex("grüß dich"))
                    .containsEntry("blocked", "0000000000000000");
            Map<String, String> sh = Json.strings(kiln.getOk("/cgi-bin/show.sh" + ENCODED));
            assertThat(sh).containsEntry("PATH_INFO", hex(PATH_INFO)).containsEntry("GREETING", hex("grüß dich"));
        }
        assertThat(Files.exists(scripts.resolve("__pycache__"))).isFalse();
    }

    @ParameterizedTest(name = "Kiln with {0}")
    @CsvSource({"no locale variable, ", "LANG=C, C"})
    void aFolderTheLocaleCannotNameIsOneLineWithTheFix(String name, String lang) throws Exception {
        Path scripts = Files.createDirectories(temp.resolve("cgi-bïn"));
        Commands.Result r = Commands.java("-jar", KilnJar.path().toString(), "--scripts", scripts.toString(),
                "--port", "0").in(temp).cleanEnv(lang == null ? Map.of() : Map.of("LANG", lang)).mergeStderr().run();
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.output().strip()).startsWith("kiln: the value of scripts (from command line) has bytes that "
                + "Kiln's locale (ANSI_X3.4-1968) cannot read; fix: start Kiln with LANG=C.UTF-8").doesNotContain("\tat ");
    }

    private static String hex(String s) {
        return HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
    }
}
