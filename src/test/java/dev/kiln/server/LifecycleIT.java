package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnJar;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.Poll;

/**
 * kiln.jar as systemd or Kubernetes drives it: SIGHUP reloads what it can and says what needs a restart, SIGTERM
 * lets running scripts finish, answers every client, logs the shutdown and exits 0; start-up problems are one
 * line each; {@code config} prints where each value came from.
 */
class LifecycleIT {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path temp;

    private Path scripts() throws Exception {
        Path s = temp.resolve("cgi-bin");
        KilnTestServer.writeScript(s, "slow.sh", "#!/bin/sh\nwhile [ ! -e " + temp.resolve("go") + " ]; do sleep 0.05; done\n"
                + "printf 'Content-Type: text/plain\\n\\nslow done\\n'\n");
        KilnTestServer.writeScript(s, "stuck.sh", "#!/bin/sh\nsleep 30\n");
        KilnTestServer.writeScript(s, "ok.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n");
        return s;
    }

    private KilnJar start(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--scripts", scripts().toString(), "--cache",
                temp.resolve("cache").toString()));
        all.addAll(List.of(args));
        return KilnJar.builder().in(temp).args(all.toArray(String[]::new)).start();
    }

    @Test
    void sighupAppliesWhatItCanAndNamesWhatNeedsARestart() throws Exception {
        Path file = Files.writeString(temp.resolve("kiln.properties"), "idle-timeout=60s\nmethods=*\n");
        try (KilnJar kiln = start("--config", file.toString())) {
            assertThat(kiln.get("/cgi-bin/ok.sh").statusCode()).isEqualTo(200);
            Files.writeString(file, "idle-timeout=1s\nmethods=GET\n");
            kiln.signal("HUP");
            List<String> line = kiln.await(10_000, "SIGHUP: configuration read again");
            assertThat(line).as(kiln.logText()).hasSize(1);
            assertThat(line.get(0)).contains("applied idle-timeout 60s -> 1s")
                    .contains("needs a restart, not applied: methods * -> GET");
            assertThat(kiln.get("/cgi-bin/stuck.sh").statusCode()).as("the new idle timeout").isEqualTo(504);
            Files.writeString(file, "idle-timeout=soon\n");
            kiln.signal("HUP");
            assertThat(kiln.await(10_000, "ERROR", "configuration refused", "idle-timeout")).hasSize(1);
            assertThat(kiln.get("/cgi-bin/ok.sh").statusCode()).as("still serving").isEqualTo(200);
        }
    }

    @Test
    void sigtermLetsARunningScriptFinishLogsTheShutdownAndExitsZero() throws Exception {
        try (KilnJar kiln = start()) {
            CompletableFuture<HttpResponse<String>> slow = running(kiln, "slow.sh");
            kiln.signal("TERM");
            assertThat(kiln.await(10_000, "stopping: no new connections; 1 scripts running")).as(kiln.logText())
                    .hasSize(1);
            Files.createFile(temp.resolve("go"));
            HttpResponse<String> r = slow.get();
            assertThat(r.statusCode()).as(kiln.logText()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("slow done\n");
            assertThat(kiln.awaitExit(WAIT)).isZero();
            assertThat(kiln.await(5000, "Kiln stopped in ")).as(kiln.logText()).hasSize(1);
            assertThat(kiln.logText()).contains("SIGTERM: shutting down").contains("Kiln stopped in ")
                    .containsPattern("\"GET /cgi-bin/slow.sh HTTP/1.1\" 200 ");
        }
    }

    @Test
    void aScriptOutlivingShutdownGraceGivesItsClientAClean503() throws Exception {
        try (KilnJar kiln = start("--shutdown-grace", "500ms", "--kill-grace", "200ms")) {
            CompletableFuture<HttpResponse<String>> stuck = running(kiln, "stuck.sh");
            kiln.signal("TERM");
            assertThat(stuck.get().statusCode()).isEqualTo(503);
            assertThat(kiln.awaitExit(WAIT)).isZero();
            assertThat(kiln.logText()).containsPattern("\"GET /cgi-bin/stuck.sh HTTP/1.1\" 503 ")
                    .contains("shutdown-grace ran out");
        }
    }

    @Test
    void aBusyPortIsOneLineWithTheFix() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Commands.Result r = jar("--port", Integer.toString(taken.getLocalPort()), "--bind", "127.0.0.1",
                    "--scripts", scripts().toString(), "--cache", temp.resolve("cache").toString());
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.stderr().lines().filter(l -> l.startsWith("kiln:")).toList()).singleElement().asString()
                    .contains("cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": address already in use")
                    .contains("fix: stop what uses port");
            assertThat(r.stderr()).doesNotContain("Failed to bind").doesNotContain("\tat ");
        }
    }

    @Test
    void anUnreadableScriptsFolderNamesTheUser() throws Exception {
        Path locked = Files.createDirectories(temp.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Commands.Result r = asNobody("--scripts", locked.toString(), "--cache", "/tmp/kiln-nobody-" + System.nanoTime());
        assertThat(r.exit()).isEqualTo(2);
        // after the start-up lines (the trust-domain WARN of an unprivileged Kiln), one line says what is wrong
        assertThat(r.stderr().lines().filter(l -> l.startsWith("kiln:")).toList()).singleElement().asString()
                .startsWith("kiln: scripts folder " + locked + " is not readable by user nobody").contains("fix:");
        assertThat(r.stderr()).doesNotContain("does not exist");
    }

    @Test
    void aLogFileThatCannotBeOpenedStopsTheStartWithOneLine() throws Exception {
        Path logs = Files.createDirectories(temp.resolve("logs"));
        Files.setPosixFilePermissions(logs, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Commands.Result r = Commands.of(withJava(Commands.AS_NOBODY, "-Dlogback.configurationFile="
                        + Path.of("conf/logback-file.xml").toAbsolutePath(), "-Dkiln.log.dir=" + logs, "-jar",
                KilnJar.path().toString(), "--port", "0", "--scripts", scripts().toString())).in(temp)
                .timeout(WAIT).run();
        assertThat(r.exit()).as(r.stdout() + r.stderr()).isEqualTo(1);
        List<String> lines = (r.stdout() + r.stderr()).lines().toList();
        assertThat(lines).as("no logback status dump").hasSizeLessThanOrEqualTo(2);
        assertThat(r.stderr()).contains("kiln: cannot open log file " + logs.resolve("kiln.log"))
                .contains("not writable by user nobody").contains("fix: ");
    }

    @Test
    void configPrintsEachValueWithItsSourceAndValidates() throws Exception {
        Path file = Files.writeString(temp.resolve("kiln.properties"), "timeout=9s\n");
        Commands.Result r = jar("config", "--config", file.toString(), "--scripts", scripts().toString(),
                "--max-queued", "7");
        assertThat(r.exit()).as(r.stderr()).isZero();
        assertThat(r.stdout()).contains("timeout = 9s  # " + file).contains("max-queued = 7  # command line")
                .contains("idle-timeout = 60s  # default").contains("configuration OK");
        Commands.Result bad = jar("config", "--scripts", scripts().toString(), "--timeout", "30");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.stderr()).contains("timeout").contains("needs a unit");
    }

    /** Requests the script and returns once it is running. */
    private static CompletableFuture<HttpResponse<String>> running(KilnJar kiln, String script) throws Exception {
        CompletableFuture<HttpResponse<String>> answer = HttpClient.newHttpClient().sendAsync(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + kiln.port() + "/cgi-bin/" + script)).build(),
                HttpResponse.BodyHandlers.ofString());
        // its process started, not only its slot taken (runningNow lists started scripts with their pids)
        Poll.withinMillis(5000).until(script + " running", () -> kiln.status().path("runningNow").size(),
                n -> n == 1);
        return answer;
    }

    private Commands.Result jar(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("-jar", KilnJar.path().toString()));
        cmd.addAll(List.of(args));
        // Debian's python3, which the script user can run (the pyenv shim on PATH is root's alone)
        cmd.addAll(List.of("--python", KilnTestServer.DEBIAN_PYTHON));
        return Commands.java(cmd.toArray(String[]::new)).in(temp).timeout(WAIT).run();
    }

    private Commands.Result asNobody(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("-jar", KilnJar.path().toString(), "--port", "0", "--python",
                KilnTestServer.DEBIAN_PYTHON));
        cmd.addAll(List.of(args));
        return Commands.of(withJava(Commands.AS_NOBODY, cmd.toArray(String[]::new))).in(temp).timeout(WAIT).run();
    }

    private static List<String> withJava(List<String> prefix, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(args));
        return cmd;
    }
}
