package dev.kiln.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnJar;

/**
 * The Java cache failing for real: the jar run as user nobody against a {@code java} folder it cannot write, then
 * one others could write. Each gets the cache's one diagnostic line with its fix, and the script keeps answering,
 * from source, until the fix is made.
 */
class JavaCacheFaultsIT {
    static final String SCRIPT = "public class Where {\n    public static void main(String[] a) {\n"
            + "        System.out.print(\"Content-Type: text/plain\\r\\n\\r\\nclass path [\" + System.getProperty(\"java.class.path\")"
            + " + \"]\\n\");\n    }\n}\n";

    Path base;
    KilnJar kiln;

    @BeforeEach
    void setUp() throws Exception {
        base = Files.createTempDirectory("kiln-java-faults-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path scripts = Files.createDirectories(base.resolve("cgi-bin"));
        Files.writeString(scripts.resolve("Where.java"), SCRIPT);
        Files.setPosixFilePermissions(scripts.resolve("Where.java"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = base.resolve("kiln.jar");
        Files.copy(KilnJar.path(), jar, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        Path cache = Files.createDirectories(base.resolve("cache"));
        Commands.of("chown", "nobody:nogroup", cache.toString()).ok();
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwx------"));
        Path java = Files.createDirectories(cache.resolve("java")); // root's: nobody cannot write it
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        kiln = KilnJar.builder().jar(jar).in(base).through(Commands.AS_NOBODY)
                .args("--scripts", scripts.toString(), "--cache", cache.toString()).start();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (kiln != null) {
            kiln.close();
        }
        Commands.of("rm", "-rf", base.toString()).ok();
    }

    String classPath() throws Exception {
        HttpResponse<String> r = kiln.get("/cgi-bin/Where.java");
        assertThat(r.statusCode()).as(r.body() + kiln.logText()).isEqualTo(200);
        return r.body().replaceAll("(?s).*class path \\[(.*)\\].*", "$1");
    }

    @Test
    void anUnwritableOrUnsafeJavaCacheIsDiagnosedOnceAndScriptsRunFromSourceMeanwhile() throws Exception {
        Path java = base.resolve("cache/java");
        assertThat(classPath()).as("run from source: no jar").doesNotContain(".jar");
        assertThat(classPath()).doesNotContain(".jar");
        List<String> warnings = kiln.matching("WARN", java.toString(), "EACCES");
        assertThat(warnings).as(kiln.logText()).hasSize(1);
        assertThat(warnings.get(0)).contains("cache mkdir " + java + "/").contains("runs as nobody (uid 65534)")
                .contains("nearest existing " + java + " is owned by root with mode drwxr-xr-x")
                .contains("fix: chown -R nobody " + java + " && chmod 700 " + java);

        // the operator runs the fix the log gave: the next request compiles, the one after runs the jar
        Commands.of("chown", "-R", "nobody", java.toString()).ok();
        Commands.of("chmod", "700", java.toString()).ok();
        classPath();
        assertThat(classPath()).startsWith(java + "/").endsWith(".jar");

        // a cache others could write holds jars nobody should load: refused, said once, run from source
        Commands.of("chmod", "777", java.toString()).ok();
        assertThat(classPath()).doesNotContain(".jar");
        assertThat(classPath()).doesNotContain(".jar");
        List<String> unsafe = kiln.matching("ERROR", java.toString(), "writable by other users");
        assertThat(unsafe).as(kiln.logText()).hasSize(1);
        assertThat(unsafe.get(0)).contains("fix: chmod 700 " + java);
    }
}
