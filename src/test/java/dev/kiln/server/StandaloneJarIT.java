package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's run command: the built jar, started from the repository root with no scripts option. */
class StandaloneJarIT {
    @TempDir
    Path home;

    @Test
    void jarServesTheBundledExamplesAndSaysWhereEverythingIs() throws Exception {
        Path jar = Path.of(System.getProperty("kiln.jar", "target/kiln.jar"));
        assertThat(jar).exists();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toAbsolutePath().toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--python", "/usr/bin/python3");
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().put("HOME", home.toString());
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        List<String> log = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.add(line);
                }
            } catch (Exception e) {
                // process ended
            }
        });
        reader.start();
        try {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> hello = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                try {
                    hello = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/cgi-bin/hello.py"))
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                    break;
                } catch (IOException notYet) {
                    assertThat(p.isAlive()).as("kiln exited: %s", log).isTrue();
                    Thread.sleep(200);
                }
            }
            assertThat(hello).as("no answer; log: %s", log).isNotNull();
            assertThat(hello.statusCode()).isEqualTo(200);
            assertThat(hello.body()).contains("Hello");
            HttpResponse<String> index = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(index.body()).contains("/cgi-bin/hello.py").contains("/cgi-bin/form.py")
                    .contains("/cgi-bin/hello.sh").doesNotContain("kiln_demo/text.py");
            String all = String.join("\n", log);
            assertThat(all).contains("serving http://127.0.0.1:" + port + "/cgi-bin/")
                    .contains("scripts folder: " + Path.of("webapp/WEB-INF/cgi-bin").toAbsolutePath())
                    .contains("cache folder: " + home.resolve(".cache/kiln"))
                    .containsPattern("python /usr/bin/python3 version 3\\.\\d+\\.\\d+ cache tag cpython-3\\d+ \\(as [^)]*/usr/bin/python3");
            assertThat(Files.isDirectory(home.resolve(".cache/kiln/py"))).isTrue();
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            reader.join(5000);
        }
        try (var walk = Files.walk(Path.of("webapp/WEB-INF/cgi-bin"))) {
            assertThat(walk.filter(f -> f.getFileName().toString().equals("__pycache__"))).isEmpty();
        }
    }
}
