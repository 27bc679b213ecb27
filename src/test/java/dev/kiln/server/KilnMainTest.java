package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.Option;
import dev.kiln.config.StatusAccess;

/** The jar's command-line contract: names, precedence flag > environment > file > default, exit code 2. */
class KilnMainTest {
    @TempDir
    Path temp;

    record Outcome(int code, String out, String err) {
    }

    Outcome run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ExitCode code = KilnMain.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).orElseThrow();
        return new Outcome(code.code(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpListsEveryOptionAndCommand() {
        Outcome o = run(Map.of(), "--help");
        assertThat(o.code()).isZero();
        for (Option opt : Option.values()) {
            assertThat(o.out()).contains(opt.flag());
        }
        assertThat(o.out()).contains("precompile").contains("prune").contains("KILN_<NAME>");
    }

    @Test
    void versionPrintsOneLine() {
        Outcome o = run(Map.of(), "--version");
        assertThat(o.code()).isZero();
        assertThat(o.out()).matches("kiln \\d+\\.\\d+\\.\\d+\\R");
    }

    @Test
    void unknownOptionFailsWithOneLineAndExitCode2() {
        Outcome o = run(Map.of(), "--prot", "80");
        assertThat(o.code()).isEqualTo(2);
        assertThat(o.err().lines()).hasSize(1);
        assertThat(o.err()).contains("--prot").contains("--help");
    }

    @Test
    void invalidValuesNameTheOptionAndWhatIsAccepted() {
        Outcome port = run(Map.of(), "--port", "99999");
        assertThat(port.code()).isEqualTo(2);
        assertThat(port.err()).contains("port").contains("99999").contains("0 to 65535");
        Outcome dur = run(Map.of(), "--timeout", "soon");
        assertThat(dur.code()).isEqualTo(2);
        assertThat(dur.err()).contains("timeout").contains("30s");
        Outcome mode = run(Map.of(), "--pyc-validation", "mtime");
        assertThat(mode.err()).contains("timestamp or checked-hash");
        Outcome status = run(Map.of(), "--status", "Nobody");
        assertThat(status.code()).isEqualTo(2);
        assertThat(status.err()).isEqualTo("kiln: invalid value 'nobody' for status (from command line): "
                + "expected local, all, off" + System.lineSeparator());
        Outcome missingValue = run(Map.of(), "--port");
        assertThat(missingValue.code()).isEqualTo(2);
        assertThat(missingValue.err()).contains("--port needs a value");
        Outcome env = run(Map.of("KILN_MAX_CONCURRENT", "lots"));
        assertThat(env.code()).isEqualTo(2);
        assertThat(env.err()).contains("max-concurrent").contains("environment");
        Outcome unknownEnv = run(Map.of("KILN_PROT", "80"));
        assertThat(unknownEnv.code()).isEqualTo(2);
        assertThat(unknownEnv.err()).contains("KILN_PROT");
        Outcome unknownCommand = run(Map.of(), "serv");
        assertThat(unknownCommand.code()).isEqualTo(2);
        assertThat(unknownCommand.err()).contains("serve, precompile, prune");
    }

    @Test
    void missingExplicitConfigFileFails() {
        Outcome o = run(Map.of(), "--config", temp.resolve("nope.properties").toString());
        assertThat(o.code()).isEqualTo(2);
        assertThat(o.err()).contains("nope.properties").contains("does not exist");
    }

    @Test
    void unknownKeyInConfigFileFails() throws Exception {
        Path file = temp.resolve("k.properties");
        Files.writeString(file, "prot=80\n");
        Outcome o = run(Map.of(), "--config", file.toString());
        assertThat(o.code()).isEqualTo(2);
        assertThat(o.err()).contains("prot").contains(file.toString());
    }

    @Test
    void missingScriptsFolderFailsClearly() {
        Outcome o = run(Map.of("HOME", temp.toString()), "--scripts", temp.resolve("none").toString(), "--port", "0",
                "--cache", temp.resolve("c").toString());
        assertThat(o.code()).isEqualTo(2);
        assertThat(o.err()).contains("scripts folder").contains("none").contains("--scripts");
    }

    @Test
    void precedenceIsFlagThenEnvironmentThenFileThenDefault() throws Exception {
        Path file = temp.resolve("kiln.properties");
        Files.writeString(file, "port=1111\nmax-queued=7\ntimeout=9s\nidle-timeout=3s\n");
        Map<String, String> env = new HashMap<>(Map.of("KILN_PORT", "2222", "KILN_TIMEOUT", "8s",
                "KILN_CONFIG", file.toString(), "HOME", temp.toString()));
        KilnConfig c = KilnMain.resolve(CommandLine.parse(new String[] {"--port", "3333"}), env);
        assertThat(c.listen().port()).isEqualTo(3333);                         // flag beats environment and file
        assertThat(c.timeouts().timeout()).isEqualTo(Duration.ofSeconds(8));   // environment beats file
        assertThat(c.concurrency().maxQueued()).isEqualTo(7);                  // file beats default
        assertThat(c.timeouts().idleTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.sizes().maxBody()).isEqualTo(256L << 20);                 // default
        assertThat(c.folders().cache()).isEqualTo(temp.resolve(".cache/kiln"));
        assertThat(c.operations().status()).isEqualTo(StatusAccess.LOCAL);
        KilnConfig fromEnvOnly = KilnMain.resolve(CommandLine.parse(new String[0]), env);
        assertThat(fromEnvOnly.listen().port()).isEqualTo(2222);
        KilnConfig eqSyntax = KilnMain.resolve(CommandLine.parse(new String[] {"--port=4444"}), env);
        assertThat(eqSyntax.listen().port()).isEqualTo(4444);
    }

    @Test
    void sizesDurationsAndListsParse() {
        KilnConfig c = KilnConfig.resolve(List.of(new KilnConfig.Source("t", Map.of(
                "max-body", "10m", "max-header-size", "8k", "kill-grace", "250ms", "timeout", "2h",
                "env", "A=1,B=x=y", "pass-env", "PATH, TZ", "methods", "get,post", "status", " All"))),
                Map.of("HOME", "/h"));
        assertThat(c.sizes().maxBody()).isEqualTo(10L << 20);
        assertThat(c.sizes().maxHeaderSize()).isEqualTo(8192);
        assertThat(c.timeouts().killGrace()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.timeouts().timeout()).isEqualTo(Duration.ofHours(2));
        assertThat(c.protocol().env()).containsEntry("A", "1").containsEntry("B", "x=y");
        assertThat(c.protocol().passEnv()).containsExactly("PATH", "TZ");
        assertThat(c.protocol().methods()).containsExactlyInAnyOrder("GET", "POST");
        assertThat(c.concurrency().maxConcurrent()).isGreaterThanOrEqualTo(8);
        assertThat(c.operations().status()).isEqualTo(StatusAccess.ALL);
    }

    @Test
    void badEnvAssignmentIsRefused() {
        assertThatThrownBy(() -> KilnConfig.resolve(List.of(
                new KilnConfig.Source("t", Map.of("env", "1BAD=x"))), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("NAME=VALUE");
    }
}
