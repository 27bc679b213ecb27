package dev.kiln.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.testing.Commands;
import dev.kiln.testing.FreePort;
import dev.kiln.testing.Podman;
import dev.kiln.testing.Poll;
import dev.kiln.testing.ScriptCounters;

/**
 * docker/Dockerfile built with podman on a local Debian base (bin/local-base-image) and run: the bundled examples
 * (Python and Java) served from the warm cache the build shipped, as the image's non-root user, its HEALTHCHECK, a scripts folder
 * mounted read-only, and a clean stop. The build takes a minute or more, so it runs once per CI run: .ci/run sets
 * SKIP_IMAGE_BUILD=1 for its second JDK.
 */
class ContainerImageIT {
    private static final String IMAGE = "localhost/kiln:it";
    private static final Path DOCKERFILE = Path.of("docker/Dockerfile");
    private static final int KILN_UID = 10001;

    @BeforeAll
    static void buildImage() throws Exception {
        assumeTrue(System.getenv("SKIP_IMAGE_BUILD") == null, "SKIP_IMAGE_BUILD is set: the image was built and "
                + "tested in an earlier pass of this CI run");
        Commands.of("bin/local-base-image").timeout(Duration.ofMinutes(10)).ok();
        List<String> build = new ArrayList<>(List.of("build", "--format", "docker",
                "--build-arg", "BASE=localhost/debian:bookworm", "-f", DOCKERFILE.toString(), "-t", IMAGE));
        build.addAll(Podman.LIMITS);
        build.add(".");
        String previous = imageId();
        Podman.of(build.toArray(String[]::new)).timeout(Duration.ofMinutes(10)).ok();
        if (!previous.isEmpty() && !previous.equals(imageId())) {
            Podman.of("rmi", previous).run(); // the last run's image, untagged now (its shared layers stay cached)
        }
    }

    /** What a real build cannot see: elsewhere the stock base is used, and it must resolve on podman too. */
    @Test
    void theDefaultBaseIsTheStockDebianImageByItsFullName() throws Exception {
        Matcher base = Pattern.compile("(?m)^ARG BASE=(\\S+)$").matcher(Files.readString(DOCKERFILE));
        assertThat(base.find()).as("ARG BASE=... in %s", DOCKERFILE).isTrue();
        assertThat(base.group(1)).isEqualTo("docker.io/library/debian:bookworm-slim");
        assertThat(Files.readString(DOCKERFILE)).containsPattern("(?m)^FROM \\$\\{BASE}$");
    }

    @Test
    void servesTheBundledExamplesFromTheShippedCacheAsANonRootUser() throws Exception {
        try (Podman.Container kiln = Podman.run(name("examples"), FreePort.pick(), IMAGE)) {
            awaitHealthy(kiln);
            HttpResponse<String> hello = kiln.get("/cgi-bin/hello.py");
            assertThat(hello.statusCode()).as(kiln.logs()).isEqualTo(200);
            assertThat(hello.body()).contains("Hello, world!");
            assertThat(kiln.get("/cgi-bin/imports.py").statusCode()).isEqualTo(200);
            for (String script : List.of("hello.py", "imports.py")) {
                ScriptCounters first = kiln.awaitCounters(script, c -> c.requests() == 1);
                assertThat(first.compiled()).as("%s: modules compiled by its first request", script).isZero();
                assertThat(first.cached() + first.shipped()).as("%s: modules found in the cache", script).isPositive();
            }
            HttpResponse<String> api = kiln.get("/cgi-bin/Api.java?name=Ada");
            assertThat(api.statusCode()).as(kiln.logs()).isEqualTo(200);
            assertThat(api.body()).contains("\"greeting\": \"Hello, Ada!\"");
            JsonNode java = kiln.status().path("javaScripts").path("Api.java");
            assertThat(java.path("compiles").asInt()).as("Api.java: compiles by its first request").isZero();
            assertThat(java.path("aot").asText()).as("Api.java: its start-up cache, shipped").isEqualTo("ready");
            assertThat(uidOfJava(kiln)).as("uid Kiln runs as").isEqualTo(KILN_UID);
            assertThat(kiln.get("/cgi-bin/hello.sh").body()).contains("Hello");
            stopsCleanly(kiln);
        }
    }

    @Test
    void servesAScriptsFolderMountedReadOnly(@TempDir Path scripts) throws Exception {
        Files.writeString(scripts.resolve("helper.py"), "GREETING = 'hello from a mounted folder'\n");
        Files.writeString(scripts.resolve("app.py"), """
                import os, helper
                try:
                    open(os.path.join(os.path.dirname(__file__), 'probe'), 'w')
                    written = 'writable'
                except OSError as e:
                    written = 'not writable: ' + e.strerror
                print('Content-Type: text/plain')
                print()
                print(helper.GREETING)
                print('scripts folder', written)
                """);
        for (Path p : List.of(scripts, scripts.resolve("helper.py"), scripts.resolve("app.py"))) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(p.endsWith("helper.py") ? "rw-r--r--"
                    : "rwxr-xr-x"));
        }
        try (Podman.Container kiln = Podman.run(name("mounted"), FreePort.pick(), IMAGE,
                "-v", scripts + ":/srv/cgi-bin:ro")) {
            awaitHealthy(kiln);
            HttpResponse<String> first = kiln.get("/cgi-bin/app.py");
            assertThat(first.statusCode()).as(kiln.logs()).isEqualTo(200);
            assertThat(first.body()).contains("hello from a mounted folder")
                    .contains("scripts folder not writable: Read-only file system");
            assertThat(kiln.awaitCounters("app.py", c -> c.requests() == 1).compiled())
                    .as("the first request compiles the mounted scripts into the cache volume").isPositive();
            assertThat(kiln.get("/cgi-bin/app.py").statusCode()).isEqualTo(200);
            assertThat(kiln.awaitCounters("app.py", c -> c.requests() == 2).lastRequestCompiled())
                    .as("modules compiled by the second request").isZero();
            assertThat(kiln.get("/cgi-bin/hello.py").statusCode()).as("the examples are gone").isEqualTo(404);
            try (var left = Files.list(scripts)) {
                assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("app.py", "helper.py");
            }
            stopsCleanly(kiln);
        }
    }

    private static void awaitHealthy(Podman.Container kiln) throws Exception {
        Poll.within(Duration.ofSeconds(30)).every(Duration.ofMillis(500))
                .until("HEALTHCHECK of " + kiln.name() + " passes", () -> kiln.healthcheck() == 0);
    }

    /** podman stop sends SIGTERM to tini, which hands it to Java: Kiln exits at once (143: killed by TERM). */
    private static void stopsCleanly(Podman.Container kiln) throws Exception {
        long start = System.nanoTime();
        Podman.of("stop", "-t", "10", kiln.name()).ok();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("time to stop").isLessThan(Duration.ofSeconds(8));
        assertThat(kiln.inspect("{{.State.ExitCode}}")).isIn("0", "143");
        assertThat(kiln.logs()).doesNotContain(" ERROR ").doesNotContain("Exception");
    }

    /** The real uid of the java process, read from the host's /proc under the container's tini. */
    private static int uidOfJava(Podman.Container kiln) throws Exception {
        long tini = Long.parseLong(kiln.inspect("{{.State.Pid}}"));
        ProcessHandle java = ProcessHandle.of(tini).orElseThrow().children()
                .filter(p -> p.info().command().orElse("").endsWith("java")).findFirst().orElseThrow();
        String status = Files.readString(Path.of("/proc", Long.toString(java.pid()), "status"));
        Matcher uid = Pattern.compile("(?m)^Uid:\\s+(\\d+)").matcher(status);
        assertThat(uid.find()).isTrue();
        return Integer.parseInt(uid.group(1));
    }

    private static String imageId() throws Exception {
        return Podman.of("image", "inspect", "--format", "{{.Id}}", IMAGE).run().stdout().trim();
    }

    private static String name(String what) {
        return "kiln-it-" + what + "-" + ProcessHandle.current().pid();
    }
}
