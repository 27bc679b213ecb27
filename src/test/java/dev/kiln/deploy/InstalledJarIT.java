package dev.kiln.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnJar;

/**
 * The jar rebuilt under a running Kiln: {@code mvn package} writes target/kiln.jar again in place, and a JVM that
 * runs that very file loses every class it had not loaded yet. bin/run-jar (what bin/run uses) runs a copy.
 */
class InstalledJarIT {
    private static final String[] EXAMPLES = {"--scripts", Path.of("webapp/WEB-INF/cgi-bin").toAbsolutePath().toString()};

    @TempDir
    Path dir;

    @Test
    void aJarRewrittenUnderBinRunJarBreaksNothingAndSigtermExits143() throws Exception {
        Path jar = Files.copy(KilnJar.path(), dir.resolve("kiln.jar"));
        try (KilnJar kiln = KilnJar.builder().jar(jar).launchedBy(Path.of("bin/run-jar")).in(dir)
                .env("TMPDIR", dir.toString()).args(EXAMPLES).start()) {
            assertThat(kiln.get("/cgi-bin/hello.py").statusCode()).isEqualTo(200);
            rebuild(jar);
            everyPageStillAnswers(kiln);
            assertThat(kiln.stop()).as("exit code on SIGTERM: 0, a graceful stop (issue 11)")
                    .isEqualTo(0);
            assertThat(kiln.logText()).doesNotContain("NoClassDefFoundError").doesNotContain("Exception");
        }
    }

    /** The same rewrite under {@code java -jar} of the file itself: what the copy prevents. */
    @Test
    void aJarRewrittenUnderJavaDashJarBreaksItsLaterPages() throws Exception {
        Path jar = Files.copy(KilnJar.path(), dir.resolve("kiln.jar"));
        try (KilnJar kiln = KilnJar.builder().jar(jar).in(dir).args(EXAMPLES).start()) {
            rebuild(jar);
            // The thread that needed a class dies and the client waits for nothing; a healthy index takes ms.
            HttpRequest index = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + kiln.port() + "/"))
                    .timeout(Duration.ofSeconds(5)).build();
            assertThatThrownBy(() -> HttpClient.newHttpClient().send(index, HttpResponse.BodyHandlers.ofString()))
                    .as("the index once the jar under it was rewritten").isInstanceOf(IOException.class);
            kiln.kill(); // its shutdown would need classes the jar no longer has
        }
    }

    /** What Maven's rebuild does to the file: new content written into the same inode. */
    private static void rebuild(Path jar) throws Exception {
        Path other = KilnJar.path().resolveSibling("original-kiln.jar");
        Files.write(jar, Files.readAllBytes(other));
        assertThat(Files.size(jar)).isEqualTo(Files.size(other));
    }

    private static void everyPageStillAnswers(KilnJar kiln) throws Exception {
        HttpResponse<String> index = kiln.get("/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.body()).contains("/cgi-bin/hello.py");
        assertThat(kiln.status().path("scripts").asText()).isNotEmpty();
        HttpResponse<String> missing = kiln.get("/cgi-bin/missing.py");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).isNotEmpty();
        assertThat(kiln.get("/cgi-bin/hello.sh").statusCode()).isEqualTo(200);
    }
}
