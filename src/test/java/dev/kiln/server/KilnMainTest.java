package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.Option;
import dev.kiln.config.StatusAccess;
import dev.kiln.testing.LogCapture;

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

    static Stream<Arguments> invalidInputs() {
        return Stream.of(
                argumentSet("port out of range", Map.of(), List.of("--port", "99999"),
                        List.of("port", "99999", "0 to 65535")),
                argumentSet("duration without unit", Map.of(), List.of("--timeout", "soon"), List.of("timeout", "30s")),
                argumentSet("unknown pyc validation", Map.of(), List.of("--pyc-validation", "mtime"),
                        List.of("timestamp or checked-hash")),
                argumentSet("unknown status access", Map.of(), List.of("--status", "Nobody"),
                        List.of("kiln: invalid value 'nobody' for status (from command line): expected local, all, off")),
                argumentSet("option without value", Map.of(), List.of("--port"), List.of("--port needs a value")),
                argumentSet("bad number in environment", Map.of("KILN_MAX_CONCURRENT", "lots"), List.of(),
                        List.of("max-concurrent", "environment")),
                argumentSet("duration without its unit", Map.of(), List.of("--idle-timeout", "30"),
                        List.of("idle-timeout", "'30'", "needs a unit")),
                argumentSet("unknown command", Map.of(), List.of("serv"), List.of("serve, precompile, prune")));
    }

    @ParameterizedTest
    @MethodSource("invalidInputs")
    void invalidValuesNameTheOptionAndWhatIsAccepted(Map<String, String> env, List<String> args, List<String> says) {
        Outcome o = run(env, args.toArray(String[]::new));
        assertThat(o.code()).isEqualTo(2);
        assertThat(o.err()).contains(says);
    }

    @Test
    void unknownKilnVariablesAreOneWarningAndKubernetesServiceLinksAreQuiet() {
        Map<String, String> env = new HashMap<>(Map.of("HOME", temp.toString(), "KILN_HOME", "/opt/kiln",
                "KILN_PROT", "80", "KILN_PORT", "tcp://10.0.0.11:8080", "KILN_SERVICE_HOST", "10.0.0.11",
                "KILN_SERVICE_PORT", "8080", "KILN_SERVICE_PORT_HTTP", "8080", "KILN_PORT_8080_TCP",
                "tcp://10.0.0.11:8080", "KILN_PORT_8080_TCP_ADDR", "10.0.0.11", "KILN_PORT_8080_TCP_PROTO", "tcp"));
        env.put("KILN_TIMEOUT", "7s");
        try (LogCapture logs = LogCapture.capture()) {
            Outcome o = run(env, "config", "--scripts", temp.toString());
            assertThat(o.code()).as(o.err()).isZero();
            assertThat(o.out()).as("KILN_PORT=tcp://... is a service link").contains("port = 8080  # default")
                    .contains("timeout = 7s  # environment");
            assertThat(logs.matching("WARN")).hasSize(1);
            assertThat(logs.matching("WARN").get(0))
                    .startsWith("WARN [kiln] ignoring environment variables KILN_HOME, KILN_PROT")
                    .doesNotContain("SERVICE").doesNotContain("KILN_PORT");
        }
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
        assertThat(c.listen().port()).isEqualTo(3333);              // flag beats environment and file
        assertThat(c.timeouts().timeout()).isEqualTo(Duration.ofSeconds(8)); // environment beats file
        assertThat(c.concurrency().maxQueued()).isEqualTo(7);            // file beats default
        assertThat(c.timeouts().idleTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.sizes().maxBody()).isEqualTo(256L << 20);     // default
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
                "env", "A=1,B=x=y", "pass-env", "PATH, TZ", "methods", "get,post", "status", "ALL"))), Map.of("HOME", "/h"));
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

    static Stream<Arguments> environmentOptions() {
        return Stream.of(
                argumentSet("a value with commas (Apache SetEnv's)", List.of("--env", "APP_DB=postgres://h/db?o=a,b"), "",
                        Map.of("APP_DB", "postgres://h/db?o=a,b")),
                argumentSet("--env repeated, one variable each", List.of("--env", "A=1,2", "--env", "B=x=y"), "",
                        Map.of("A", "1,2", "B", "x=y")),
                argumentSet("a comma followed by NAME= starts the next", List.of("--env", "A=1,B=2"), "",
                        Map.of("A", "1", "B", "2")),
                argumentSet("env.NAME in the file is verbatim", List.of(), "env.SQL=a,B=c\n",
                        Map.of("SQL", "a,B=c")),
                argumentSet("file and flag merge by name, the flag wins", List.of("--env", "X=flag"),
                        "env.X=file\nenv.Y=y\nenv=Z=z\n", Map.of("X", "flag", "Y", "y", "Z", "z")));
    }

    @ParameterizedTest
    @MethodSource
    void environmentOptions(List<String> args, String file, Map<String, String> expected) throws Exception {
        Path props = temp.resolve("env.properties");
        Files.writeString(props, file);
        Map<String, String> env = Map.of("KILN_CONFIG", props.toString(), "HOME", temp.toString());
        KilnConfig c = KilnMain.resolve(CommandLine.parse(args.toArray(String[]::new)), env);
        assertThat(c.protocol().env()).isEqualTo(expected);
    }

    @Test
    void staticIsRepeatableOnTheCommandLine() throws Exception {
        Files.writeString(temp.resolve("none.properties"), "");
        KilnConfig c = KilnMain.resolve(CommandLine.parse(new String[] {"--static", "/a/=/srv/a", "--static=/b=/srv/b,c"}),
                Map.of("HOME", temp.toString(), "KILN_CONFIG", temp.resolve("none.properties").toString()));
        assertThat(c.routes().statics()).containsExactly(new KilnConfig.Alias("/a", Path.of("/srv/a")),
                new KilnConfig.Alias("/b", Path.of("/srv/b,c")));
    }

    @Test
    void passEnvPlusNamesAddToTheDefaultList() {
        KilnConfig c = KilnConfig.resolve(List.of(new KilnConfig.Source("t", Map.of("pass-env", "+PGHOST, +PGPORT"))),
                Map.of());
        assertThat(c.protocol().passEnv()).containsExactly("PATH", "LANG", "LC_ALL", "TZ", "PGHOST", "PGPORT");
        assertThatThrownBy(() -> KilnConfig.resolve(List.of(new KilnConfig.Source("t", Map.of("pass-env", "+A,B"))),
                Map.of())).isInstanceOf(ConfigException.class).hasMessageContaining("+NAME");
    }

    @Test
    void envThatEveryRequestReplacesIsRefusedAtStartNamingTheFix() {
        Map<String, String> env = Map.of("HOME", temp.toString());
        String[] common = {"--scripts", temp.toString(), "--port", "0", "--cache", temp.resolve("c").toString()};
        Outcome root = run(env, Stream.concat(Stream.of("--env", "DOCUMENT_ROOT=/srv/www"), Stream.of(common))
                .toArray(String[]::new));
        assertThat(root.code()).isEqualTo(2);
        assertThat(root.err()).contains("DOCUMENT_ROOT").contains("--document-root");
        Outcome uri = run(env, Stream.concat(Stream.of("--env", "REQUEST_URI=/x"), Stream.of(common))
                .toArray(String[]::new));
        assertThat(uri.code()).isEqualTo(2);
        assertThat(uri.err()).contains("REQUEST_URI").contains("take it out of env");
    }
}
