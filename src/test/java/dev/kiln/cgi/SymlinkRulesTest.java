package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.kiln.cgi.ScriptResolver.Symlinks;
import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;

/**
 * Option symlinks: which symlinks of the scripts folder are followed (inside, owner-match as Apache's
 * SymLinksIfOwnerMatch, follow as FollowSymLinks), what a refusal says, and that the suEXEC and execute-bit rules
 * apply to the real target of a followed link.
 */
class SymlinkRulesTest {
    @TempDir
    static Path temp;
    static Path root;
    static Path outside;

    @BeforeAll
    static void tree() throws Exception {
        root = Files.createDirectories(temp.resolve("cgi-bin")).toRealPath();
        outside = Files.createDirectories(temp.resolve("outside")).toRealPath();
        KilnTestServer.writeScript(root, "app.sh", "#!/bin/sh\n");
        KilnTestServer.writeScript(outside, "out.sh", "#!/bin/sh\n");
        Path nobodys = KilnTestServer.writeScript(outside, "nobodys.sh", "#!/bin/sh\n");
        Commands.of("chown", "nobody", nobodys.toString()).ok();
        link("alias.sh", root.resolve("app.sh"), "root");
        link("escape.sh", outside.resolve("out.sh"), "root");
        link("escape-dir", outside, "root");
        link("foreign.sh", outside.resolve("out.sh"), "nobody");
        link("foreign-dir", outside, "nobody");
        link("to-nobodys.sh", nobodys, "root");
        link("chain.sh", root.resolve("escape.sh"), "root");
    }

    private static void link(String name, Path target, String owner) throws Exception {
        Path link = Files.createSymbolicLink(root.resolve(name), target);
        Commands.of("chown", "-h", owner, link.toString()).ok();
    }

    /** Expected: a file (relative to the scripts folder's parent) or the refusal's words. */
    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
        inside      | /alias.sh             | cgi-bin/app.sh
        inside      | /escape.sh            | scripts folder: escape.sh -> OUT/out.sh; set symlinks=owner-match or follow to allow it
        inside      | /escape-dir/out.sh    | symlink leaves the scripts folder: escape-dir -> OUT; set symlinks=owner-match or follow
        inside      | /chain.sh             | symlink leaves the scripts folder: chain.sh -> OUT/out.sh
        owner-match | /alias.sh             | cgi-bin/app.sh
        owner-match | /escape.sh            | outside/out.sh
        owner-match | /escape-dir/out.sh/x  | outside/out.sh
        owner-match | /chain.sh             | outside/out.sh
        owner-match | /foreign.sh           | symlink leaves the scripts folder for a target of another owner: foreign.sh -> OUT/out.sh
        owner-match | /foreign.sh           | (uids 65534 and 0); fix: chown -h the link to the target's owner, or set symlinks=follow
        owner-match | /foreign-dir/out.sh   | for a target of another owner: foreign-dir -> OUT (uids 65534 and 0)
        owner-match | /to-nobodys.sh        | for a target of another owner: to-nobodys.sh -> OUT/nobodys.sh (uids 0 and 65534)
        follow      | /alias.sh             | cgi-bin/app.sh
        follow      | /escape.sh            | outside/out.sh
        follow      | /foreign.sh           | outside/out.sh
        follow      | /foreign-dir/out.sh   | outside/out.sh
        follow      | /to-nobodys.sh        | outside/nobodys.sh
        follow      | /escape-dir/../app.sh | empty or dot segment in path
        """)
    void eachRuleFollowsItsSymlinks(String rule, String path, String expected) throws Exception {
        ScriptResolver.Result r = new ScriptResolver(root, Symlinks.valueOf(rule.toUpperCase().replace('-', '_')))
                .resolve(path);
        if (expected.startsWith("cgi-bin/") || expected.startsWith("outside/")) {
            assertThat(r.reason()).isNull();
            assertThat(r.script().file()).isEqualTo(root.getParent().resolve(expected));
        } else {
            assertThat(r.script()).isNull();
            assertThat(r.refusal()).isEqualTo(ScriptResolver.Refusal.FORBIDDEN);
            assertThat(r.reason()).contains(expected.replace("OUT", outside.toString()));
        }
    }

    /** Debian installs gitweb as /usr/lib/cgi-bin/gitweb.cgi -> /usr/share/gitweb/gitweb.cgi, both root's. */
    @Test
    void ownerMatchServesDebiansGitwebLink() throws Exception {
        Path cgiBin = Path.of("/usr/lib/cgi-bin");
        assertThat(Files.isSymbolicLink(cgiBin.resolve("gitweb.cgi"))).as("package gitweb installed").isTrue();
        assertThat(new ScriptResolver(cgiBin, Symlinks.OWNER_MATCH).resolve("/gitweb.cgi").script().file())
                .isEqualTo(Path.of("/usr/share/gitweb/gitweb.cgi"));
        assertThat(new ScriptResolver(cgiBin, Symlinks.INSIDE).resolve("/gitweb.cgi").reason())
                .contains("set symlinks=owner-match or follow");
    }

    /** suEXEC's rule and require-exec look at what runs: the target, and the target's own folder. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        open-folder  | rwxrwxrwx | rwxr-xr-x | 403 | its folder OUT/open-folder is writable by users other than its owner
        open-script  | rwxr-xr-x | rwxrwxrwx | 403 | fix: chmod go-w OUT/open-script/tool.sh
        plain-script | rwxr-xr-x | rw-r--r-- | 500 | fix: chmod +x OUT/plain-script/tool.sh, or set require-exec=false
        fine         | rwxr-xr-x | rwxr-xr-x | 200 | target
        """)
    void theRulesOfFilesApplyToTheRealTarget(String name, String folderMode, String scriptMode, int status,
                                             String logged) throws Exception {
        Path base = Files.createDirectories(temp.resolve("http-" + name));
        Path folder = Files.createDirectories(outside.resolve(name));
        Path script = KilnTestServer.writeScript(folder, "tool.sh",
                "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\ntarget\\n'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString(scriptMode));
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString(folderMode));
        KilnTestServer.Builder builder = KilnTestServer.builder(base).option("symlinks", "follow");
        Files.createDirectories(builder.scripts());
        Files.createSymbolicLink(builder.scripts().resolve("link.sh"), script);
        try (KilnTestServer kiln = builder.start(); LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = kiln.get("/cgi-bin/link.sh");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
            if (status == 200) {
                assertThat(r.body()).isEqualTo("target\n");
            } else {
                assertThat(logs.await(3000, "/cgi-bin/link.sh", Integer.toString(status))).singleElement()
                        .asString().contains(logged.replace("OUT", outside.toString()));
            }
        }
    }
}
