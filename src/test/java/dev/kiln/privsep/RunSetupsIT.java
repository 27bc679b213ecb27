package dev.kiln.privsep;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnJar;

/**
 * The setups the README names, with the jar: Kiln unprivileged but given CAP_SETUID, CAP_SETGID and CAP_KILL
 * (a user this test creates, as a systemd unit's AmbientCapabilities would) still runs scripts as nobody, who can
 * neither read Kiln's files nor take its capabilities; Kiln unprivileged without them runs scripts as itself and
 * says so; asking it for another script user then is refused at start.
 */
class RunSetupsIT {
    private static final String KILN_USER = "kilnprivtest";
    private static final String PROBE = """
            #!/usr/bin/python3
            import os
            print('Content-Type: text/plain\\n')
            print('ids', os.getuid(), os.geteuid(), os.getgid())
            print('caps', [l.split()[1] for l in open('/proc/self/status') if l.startswith(('CapPrm', 'CapEff', 'CapAmb'))])
            try:
                print(open(os.environ['SECRET']).read())
            except OSError as e:
                print('secret refused', e.errno)
            try:
                os.setuid(int(os.environ['KILN_UID']))
                print('became kiln')
            except OSError as e:
                print('setuid refused', e.errno)
            """;

    Path base;
    Path scripts;
    Path jar;
    Path secret;
    final List<KilnJar> started = new ArrayList<>();

    @BeforeAll
    static void createKilnUser() throws Exception {
        Commands.of("userdel", KILN_USER).run();
        Commands.of("useradd", "--system", "--no-create-home", "--groups", "nogroup", "--shell", "/usr/sbin/nologin",
                KILN_USER).ok();
    }

    @AfterAll
    static void removeKilnUser() throws Exception {
        Commands.of("userdel", KILN_USER).ok();
    }

    @BeforeEach
    void setUp() throws Exception {
        base = Files.createTempDirectory("kiln-setups-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        scripts = Files.createDirectories(base.resolve("cgi-bin"));
        Path probe = Files.writeString(scripts.resolve("probe.py"), PROBE);
        Files.setPosixFilePermissions(probe, PosixFilePermissions.fromString("rwxr-xr-x"));
        jar = Files.copy(KilnJar.path(), base.resolve("kiln.jar"), StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        secret = Files.writeString(base.resolve("kiln-secret"), "kiln-only-content");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Files.createDirectories(base.resolve("home"));
        Commands.of("chown", "-R", KILN_USER, secret.toString(), base.resolve("home").toString()).ok();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (KilnJar k : started) {
            k.close();
        }
        Commands.of("rm", "-rf", base.toString()).ok();
    }

    private KilnJar start(List<String> prefix, String runMode, String kilnUid) throws Exception {
        KilnJar kiln = KilnJar.builder().jar(jar).in(base).through(prefix)
                .env("HOME", base.resolve("home").toString())
                .args("--scripts", scripts.toString(), "--cache", base.resolve("home/cache").toString(),
                        "--run-mode", runMode, "--env", "SECRET=" + secret + ",KILN_UID=" + kilnUid).start();
        started.add(kiln);
        return kiln;
    }

    @ParameterizedTest
    @ValueSource(strings = {"classic", "forkserver"})
    void withCapabilitiesAnUnprivilegedKilnStillSeparatesScripts(String runMode) throws Exception {
        String uid = Commands.of("id", "-u", KILN_USER).ok().strip();
        KilnJar kiln = start(List.of("setpriv", "--inh-caps", "+setuid,+setgid,+kill", "--ambient-caps",
                "+setuid,+setgid,+kill", "--reuid=" + KILN_USER, "--regid=" + KILN_USER, "--init-groups", "--"),
                runMode, uid);
        for (int i = 0; i < 2; i++) { // cold and warm cache
            HttpResponse<String> r = kiln.get("/cgi-bin/probe.py");
            assertThat(r.body()).as(kiln.logText()).contains("ids 65534 65534 65534")
                    .contains("caps ['0000000000000000', '0000000000000000', '0000000000000000']")
                    .contains("secret refused 13").contains("setuid refused 1")
                    .doesNotContain("kiln-only-content").doesNotContain("became kiln");
        }
        assertThat(kiln.logText()).contains("scripts run as nobody").contains("switched with Kiln's CAP_SETUID");
        assertThat(Commands.of("stat", "-c", "%U %a", base.resolve("home/cache/runtime/kiln_loader.py").toString())
                .ok().strip()).isEqualTo(KILN_USER + " 640");
    }

    @ParameterizedTest
    @ValueSource(strings = {"classic", "forkserver"})
    void withoutCapabilitiesScriptsShareKilnsUserAndKilnSaysSo(String runMode) throws Exception {
        String uid = Commands.of("id", "-u", KILN_USER).ok().strip();
        List<String> asKiln = List.of("setpriv", "--reuid=" + KILN_USER, "--regid=" + KILN_USER, "--init-groups", "--");
        KilnJar kiln = start(asKiln, runMode, uid);
        assertThat(kiln.get("/cgi-bin/probe.py").body()).contains("ids " + uid + " " + uid);
        assertThat(kiln.logText()).contains("scripts run as Kiln's own user " + KILN_USER)
                .contains("share its trust domain");
        List<String> cmd = new ArrayList<>(asKiln);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(),
                "--scripts", scripts.toString(), "--cache", base.resolve("home/cache").toString(), "--port", "0",
                "--script-user", "nobody"));
        Commands.Result refused = Commands.of(cmd).env(e -> e.put("HOME", base.resolve("home").toString())).run();
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.stdout() + refused.stderr()).contains("script-user nobody").contains("CAP_SETUID")
                .contains("fix:");
    }
}
