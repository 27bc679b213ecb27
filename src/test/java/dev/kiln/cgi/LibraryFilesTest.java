package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.RunModes;

/** What scripts import is not what clients run: package modules and the library option's globs get 403. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LibraryFilesTest {
    private static final String HELLO = "#!/usr/bin/python3\nprint('Content-Type: text/plain\\n')\nprint('ran')\n";

    @TempDir
    static Path temp;
    KilnTestServer kiln;

    @BeforeAll
    void start() throws Exception {
        kiln = KilnTestServer.builder(temp).runMode(RunModes.CLASSIC).option("library", "lib/**,*.inc.py").start();
        kiln.script("app.py", "#!/usr/bin/python3\nimport pkg.util\nprint('Content-Type: text/plain\\n')\n"
                + "print(pkg.util.VALUE)\n");
        kiln.script("pkg/__init__.py", "");
        kiln.script("pkg/util.py", "#!/usr/bin/python3\nVALUE = 'imported'\nif __name__ == '__main__':\n"
                + "    print('Content-Type: text/plain\\n')\n    print('ran')\n");
        kiln.script("pkg/data.sh", "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho ran\n");
        kiln.script("lib/helpers.py", HELLO);
        kiln.script("lib/deep/more.sh", "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho ran\n");
        kiln.script("common.inc.py", HELLO);
        kiln.script("tools/run.py", HELLO);
    }

    @AfterAll
    void stop() throws Exception {
        kiln.close();
    }

    @Test
    void theIndexListsScriptsNotLibraryFiles() throws Exception {
        String index = kiln.get("/").body();
        assertThat(index).contains("app.py").contains("tools/run.py").contains("pkg/data.sh")
                .doesNotContain("pkg/util.py").doesNotContain("lib/").doesNotContain("common.inc.py");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "/cgi-bin/app.py, 200, imported",
        "/cgi-bin/pkg/util.py, 403, module of the package pkg",
        "/cgi-bin/pkg/util.py/extra, 403, module of the package pkg",
        "/cgi-bin/pkg/data.sh, 200, ran",
        "/cgi-bin/lib/helpers.py, 403, library option's lib/**",
        "/cgi-bin/lib/deep/more.sh, 403, library option's lib/**",
        "/cgi-bin/common.inc.py, 403, library option's *.inc.py",
        "/cgi-bin/tools/run.py, 200, ran",
    })
    void importedFilesAreRefused(String path, int status, String says) throws Exception {
        try (LogCapture logs = LogCapture.capture()) {
            var r = kiln.get(path);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
            if (status == 200) {
                assertThat(r.body().strip()).isEqualTo(says);
            } else {
                assertThat(r.body()).doesNotContain("ran");
                assertThat(logs.await(2000, says, "fix:")).as(logs.lines().toString()).hasSize(1);
            }
        }
    }
}
