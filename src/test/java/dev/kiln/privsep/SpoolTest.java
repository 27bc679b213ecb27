package dev.kiln.privsep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.Kiln;
import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.Poll;

/**
 * The request-body spool is Kiln's own: a 0700 folder made and emptied at start, refused when someone else made
 * it first, and each body a file unlinked as soon as it is created, so no local user can swap it for a link to a
 * file only root may read (which an echoing script would then send back).
 */
class SpoolTest {
    @TempDir
    Path temp;

    @Test
    void aSpooledBodyHasNoNameAnotherUserCouldSwap() throws Exception {
        Path spool = Path.of(System.getProperty("java.io.tmpdir"), "kiln-bodies-0");
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            kiln.script("echo.py", "#!/usr/bin/python3\nimport os, sys\nbody = sys.stdin.read()\n"
                    + "print('Content-Type: text/plain\\n')\nprint(os.environ['CONTENT_LENGTH'], body)\n");
            assertThat(Commands.of("stat", "-c", "%U %a", spool.toString()).ok().strip()).isEqualTo("root 700");
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", kiln.port()), 5000);
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                out.write(("POST /cgi-bin/echo.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                        + "Connection: close\r\n\r\n5\r\nhello\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                // mid-upload: the body is open in Kiln, but has no name left in the folder
                Poll.withinMillis(5000).every(Duration.ofMillis(50)).until("a spooled body open in Kiln",
                        () -> openDeletedSpoolFiles(spool) == 1);
                try (Stream<Path> names = Files.list(spool)) {
                    assertThat(names.toList()).isEmpty();
                }
                List<String> asNobody = Commands.AS_NOBODY;
                assertThat(Commands.of(concat(asNobody, "ln", "-s", "/etc/shadow", spool + "/body-x")).run().exit())
                        .isNotZero();
                assertThat(Commands.of(concat(asNobody, "ls", spool.toString())).run().exit()).isNotZero();
                out.write("6\r\n world\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                ByteArrayOutputStream reply = new ByteArrayOutputStream();
                s.getInputStream().transferTo(reply);
                assertThat(reply.toString(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 200")
                        .endsWith("\r\n\r\n11 hello world\n");
            }
            assertThat(openDeletedSpoolFiles(spool)).as("closed once answered").isZero();
        }
    }

    @Test
    void aSpoolFolderSomeoneElseMadeIsRefusedAndLeftoversAreCleaned() throws Exception {
        Path tmp = Files.createDirectories(temp.resolve("tmp"));
        Path spool = tmp.resolve("kiln-bodies-0");
        Files.createDirectories(spool);
        Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwx------"));
        Files.writeString(spool.resolve("body-left-by-a-crash.tmp"), "old");
        try (Kiln kiln = kilnIn(tmp)) {
            try (Stream<Path> names = Files.list(spool)) {
                assertThat(names.toList()).as("cleaned at start").isEmpty();
            }
        }
        Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> kilnIn(tmp)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(spool.toString()).hasMessageContaining("mode 777").hasMessageContaining("fix:");
        Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwx------"));
        Commands.of("chown", "nobody", spool.toString()).ok();
        assertThatThrownBy(() -> kilnIn(tmp)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("owner uid 65534").hasMessageContaining("rm -rf " + spool);
        Commands.of("rm", "-rf", spool.toString()).ok();
        Files.createSymbolicLink(spool, Files.createDirectories(temp.resolve("elsewhere")));
        assertThatThrownBy(() -> kilnIn(tmp)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("symbolic link");
    }

    private Kiln kilnIn(Path tmp) throws Exception {
        Files.createDirectories(temp.resolve("cgi-bin"));
        KilnConfig config = KilnConfig.resolve(List.of(new KilnConfig.Source("test", Map.of(
                "scripts", temp.resolve("cgi-bin").toString(), "cache", temp.resolve("cache").toString(),
                "python", KilnTestServer.DEBIAN_PYTHON))), Map.of("PATH", "/usr/bin:/bin"));
        return new Kiln(config, Map.of("PATH", "/usr/bin:/bin"), tmp);
    }

    /** Files of the spool folder this JVM has open whose names are gone. */
    private static long openDeletedSpoolFiles(Path spool) throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (Exception gone) {
                    return "";
                }
            }).filter(t -> t.startsWith(spool + "/body-") && t.endsWith(" (deleted)")).count();
        }
    }

    private static List<String> concat(List<String> prefix, String... command) {
        return Stream.concat(prefix.stream(), Stream.of(command)).toList();
    }
}
