package dev.kiln.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.Commands;

/**
 * conf/kiln.service as systemd reads it, and the install layout it shares with the container image
 * (/opt/kiln/kiln.jar, /etc/kiln/kiln.properties, /srv/cgi-bin, /var/cache/kiln).
 */
class SystemdUnitTest {
    private static final Path UNIT = Path.of("conf/kiln.service");
    private static final Path ANALYZE = Path.of("/usr/bin/systemd-analyze");

    @Test
    void systemdAcceptsTheUnitWithoutAWarning() throws Exception {
        assumeTrue(Files.isExecutable(ANALYZE), ANALYZE + " is missing: install Debian's systemd package "
                + "(bin/setup-machine --test does) to check conf/kiln.service");
        Commands.Result r = Commands.of(ANALYZE.toString(), "verify", UNIT.toString()).mergeStderr().run();
        assertThat(r.exit()).as("systemd-analyze verify exit code: %s", r.output()).isZero();
        assertThat(r.output()).as("systemd-analyze verify: unknown keys and bad values are only warnings").isBlank();
    }

    @Test
    void theServiceRunsUnprivilegedWithOnlyItsCacheWritable() throws IOException {
        Map<String, List<String>> service = section("Service");
        assertThat(service.get("User")).singleElement().isNotIn("root", "0");
        assertThat(service.get("Environment")).contains("LANG=C.UTF-8");
        assertThat(service.get("ProtectSystem")).containsExactly("strict");
        assertThat(service.get("ReadWritePaths")).containsExactly(env(service, "KILN_CACHE"));
        assertThat("/var/cache/" + service.get("CacheDirectory").get(0)).isEqualTo(env(service, "KILN_CACHE"));
        assertThat(service.get("CacheDirectoryMode")).containsExactly("0700");
        // InstalledJarIT: the jar exits 143 on SIGTERM, which systemd would otherwise count as a failure.
        assertThat(service.get("SuccessExitStatus")).containsExactly("143");
    }

    @Test
    void theUnitAndTheImageShareOneInstallLayout() throws IOException {
        Map<String, List<String>> service = section("Service");
        assertThat(service.get("ExecStart")).containsExactly("/usr/bin/java -jar /opt/kiln/kiln.jar");
        String dockerfile = Files.readString(Path.of("docker/Dockerfile"));
        for (String name : List.of("KILN_CONFIG", "KILN_SCRIPTS", "KILN_CACHE")) {
            assertThat(dockerfile).as("docker/Dockerfile's ENV").contains(name + "=" + env(service, name) + " ");
        }
        assertThat(env(service, "KILN_CONFIG")).isEqualTo("/etc/kiln/kiln.properties");
        assertThat(env(service, "KILN_SCRIPTS")).isEqualTo("/srv/cgi-bin");
        assertThat(dockerfile).contains("COPY target/kiln.jar /opt/kiln/kiln.jar");
    }

    private static String env(Map<String, List<String>> service, String name) {
        return service.get("Environment").stream().filter(e -> e.startsWith(name + "=")).findFirst()
                .map(e -> e.substring(name.length() + 1)).orElseThrow(() -> new AssertionError("no " + name));
    }

    /** The keys of one [section], each with its values in order (a key may repeat, as Environment= does). */
    private static Map<String, List<String>> section(String name) throws IOException {
        Map<String, List<String>> keys = new LinkedHashMap<>();
        String current = null;
        for (String line : Files.readAllLines(UNIT)) {
            String l = line.strip();
            if (l.startsWith("[")) {
                current = l;
            } else if (("[" + name + "]").equals(current) && !l.isEmpty() && !l.startsWith("#")) {
                int eq = l.indexOf('=');
                keys.computeIfAbsent(l.substring(0, eq), k -> new ArrayList<>()).add(l.substring(eq + 1));
            }
        }
        return keys;
    }
}
