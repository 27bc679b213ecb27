package dev.kiln.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.kiln.Kiln;
import dev.kiln.config.KilnConfig;
import dev.kiln.server.KilnServer;

/**
 * A real Kiln (embedded Jetty) on an ephemeral port of 127.0.0.1, serving a scripts folder the test writes.
 * Build with {@link #builder(Path)}, set options by their Kiln names, start, then send real HTTP requests.
 */
public final class KilnTestServer implements KilnStatus, AutoCloseable {
    /** Debian's interpreter: real binary, sees dist-packages, usable by unprivileged users. */
    public static final String DEBIAN_PYTHON = "/usr/bin/python3";

    private final KilnServer server;
    private final Path scripts;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    private KilnTestServer(KilnServer server, Path scripts) {
        this.server = server;
        this.scripts = scripts;
    }

    public static Builder builder(Path tempDir) {
        return new Builder(tempDir);
    }

    /** Options by Kiln name; defaults: port 0, bind 127.0.0.1, scripts tempDir/cgi-bin, cache tempDir/cache. */
    public static final class Builder {
        private final Path temp;
        private final Map<String, String> options = new HashMap<>();
        private final Map<String, String> hostEnv = new HashMap<>();

        Builder(Path temp) {
            this.temp = temp;
            options.put("port", "0");
            options.put("bind", "127.0.0.1");
            options.put("scripts", temp.resolve("cgi-bin").toString());
            options.put("cache", temp.resolve("cache").toString());
            options.put("python", DEBIAN_PYTHON);
            // Tests never depend on the ambient environment: scripts see this PATH and nothing else by default.
            hostEnv.put("PATH", "/usr/local/bin:/usr/bin:/bin");
            hostEnv.put("HOME", temp.toString());
        }

        /** How Kiln runs Python scripts ({@link RunModes}), said explicitly whatever the default. */
        public Builder runMode(String mode) {
            options.put("run-mode", mode);
            return this;
        }

        public Builder option(String name, String value) {
            options.put(name, value);
            return this;
        }

        /** A variable in Kiln's own environment (what pass-env may pass through). */
        public Builder hostEnv(String name, String value) {
            hostEnv.put(name, value);
            return this;
        }

        public Path scripts() {
            return Path.of(options.get("scripts"));
        }

        public KilnTestServer start() throws Exception {
            Files.createDirectories(scripts());
            KilnConfig config = KilnConfig.resolve(List.of(new KilnConfig.Source("test", options)), hostEnv);
            return new KilnTestServer(KilnServer.start(config, hostEnv), scripts());
        }
    }

    public int port() {
        return server.port();
    }

    /** The HTTPS port (tls-cert set). */
    public int httpsPort() {
        return server.httpsPort().orElseThrow(() -> new AssertionError("no HTTPS: tls-cert is not set"));
    }

    public Path scripts() {
        return scripts;
    }

    public Kiln kiln() {
        return server.kiln();
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
    }

    /** Writes an executable script below the scripts folder and returns its path. */
    public Path script(String relative, String content) throws IOException {
        return writeScript(scripts, relative, content);
    }

    /**
     * A folder scripts may write to (their marker files): Kiln runs as root in tests and its scripts as the script
     * user, nobody, who owns it.
     */
    public static Path scriptWritable(Path dir) throws Exception {
        Files.createDirectories(dir);
        Commands.of("chown", "nobody:nogroup", dir.toString()).ok();
        return dir;
    }

    public static Path writeScript(Path root, String relative, String content) throws IOException {
        Path p = root.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    @Override
    public HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(30)).GET().build());
    }

    public HttpResponse<String> post(String pathAndQuery, String contentType, String body)
            throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    public HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    public HttpClient client() {
        return client;
    }

    @Override
    public void close() throws Exception {
        server.close();
    }
}
