package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.Bytecode;
import dev.kiln.testing.FreePort;
import dev.kiln.testing.KilnJar;

/** The README's run command: the built jar, started from the repository root with no scripts option. */
class StandaloneJarIT {
    @TempDir
    Path home;

    @Test
    void jarServesTheBundledExamplesAndSaysWhereEverythingIs() throws Exception {
        assertThat(KilnJar.path()).exists();
        int port = FreePort.pick(); // the port asked for is the port served, and the log says so
        try (KilnJar kiln = KilnJar.builder().port(port).env("HOME", home.toString())
                .env("PYTHONDONTWRITEBYTECODE", "1").start()) {
            assertThat(kiln.port()).isEqualTo(port);
            HttpResponse<String> hello = kiln.get("/cgi-bin/hello.py");
            assertThat(hello.statusCode()).isEqualTo(200);
            assertThat(hello.body()).contains("Hello");
            HttpResponse<String> index = kiln.get("/");
            assertThat(index.body()).contains("/cgi-bin/hello.py").contains("/cgi-bin/form.py")
                    .contains("/cgi-bin/hello.sh").doesNotContain("kiln_demo/text.py");
            kiln.await(5000, "python /usr/bin/python3 version"); // the startup summary's last line
            assertThat(kiln.get("/").statusCode()).as("the advertised URL works").isEqualTo(200);
            assertThat(kiln.logText()).contains("serving http://127.0.0.1:" + port + "/ (scripts at ")
                    .contains("scripts folder: " + Path.of("webapp/WEB-INF/cgi-bin").toAbsolutePath())
                    .contains("cache folder: " + home.resolve(".cache/kiln"))
                    .containsPattern("python /usr/bin/python3 version 3\\.\\d+\\.\\d+ cache tag cpython-3\\d+ "
                            + "\\(as [^)]*/usr/bin/python3");
            assertThat(Files.isDirectory(home.resolve(".cache/kiln/py"))).isTrue();
        }
        Bytecode.assertNoneUnder(Path.of("webapp/WEB-INF/cgi-bin"));
    }
}
