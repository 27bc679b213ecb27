package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.RawHttp;

/**
 * Whatever the encoding, a request either resolves strictly inside the scripts folder or is refused: generated
 * paths of script and folder names, symlinks in and out, dot segments, {@code %2e %2f %5c}, overlong UTF-8, double
 * encoding, {@code ;} parameters, {@code //}, trailing dots and spaces. Checked on {@link ScriptResolver} with
 * decoded paths, and over HTTP with raw request lines, where every outside script answers OUTSIDE. With option
 * symlinks at owner-match or follow, a path resolves inside the folder or through a link the rule follows, and
 * always to the real path that runs.
 */
class ScriptResolverPropertiesTest {
    static final List<String> NAMES = List.of("app.sh", "sub", "tool.sh", "in-link", "out-link", "esc.sh", "foreign",
            "secret.sh", "outside", "cgi-bin", "..", ".", "", "app.sh.", "app.sh ", "sub.", "sub ", "app.sh;x",
            "sub;a=b", "\\", "..\\secret.sh", "\u00c0\u00ae", "%2e", "%2e%2e", "%2f");
    static final List<String> ENCODED = List.of("app.sh", "sub", "tool.sh", "in-link", "out-link", "esc.sh",
            "secret.sh", "outside", "cgi-bin", "..", ".", "", "%2e", "%2E", "%2e%2e", ".%2e", "%2f", "%2F", "%5c",
            "%5C", "%c0%ae", "%c0%ae%c0%ae", "%c0%af", "%e0%80%ae", "%252e", "%252e%252e", "%252f", ";", ";x=1",
            "app.sh;jsessionid=1", "..;", "app.sh.", "app.sh%20", "app.sh%2e", "%00", "~", "%7e", "sub%2ftool.sh",
            "%2e%2e%2fsecret.sh", "..%5csecret.sh");

    static Path temp;
    static Path root;
    static Path outside;
    static Path foreign;
    static ScriptResolver resolver;
    static ScriptResolver ownerMatch;
    static ScriptResolver follow;
    static KilnTestServer kiln;

    @BeforeContainer
    static void tree() throws Exception {
        temp = Files.createTempDirectory("kiln-resolver-");
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x")); // the script user's way in
        outside = Files.createDirectories(temp.resolve("outside")).toRealPath();
        foreign = Files.createDirectories(temp.resolve("foreign")).toRealPath();
        String out = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nOUTSIDE\\n'\n";
        KilnTestServer.writeScript(outside, "secret.sh", out);
        KilnTestServer.writeScript(outside, "app.sh", out);
        KilnTestServer.writeScript(temp, "secret.sh", out);
        KilnTestServer.writeScript(foreign, "app.sh", out);
        KilnTestServer.Builder builder = KilnTestServer.builder(temp.resolve("kiln"));
        root = builder.scripts();
        String in = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\ninside\\n'\n";
        KilnTestServer.writeScript(root, "app.sh", in);
        KilnTestServer.writeScript(root, "sub/tool.sh", in);
        Files.createSymbolicLink(root.resolve("in-link"), root.resolve("sub"));
        Files.createSymbolicLink(root.resolve("out-link"), outside);
        Files.createSymbolicLink(root.resolve("esc.sh"), outside.resolve("secret.sh"));
        // a link of another owner than its target's: owner-match does not follow it
        Files.createSymbolicLink(root.resolve("foreign"), foreign);
        Commands.of("chown", "-h", "nobody", root.resolve("foreign").toString()).ok();
        kiln = builder.start();
        resolver = new ScriptResolver(root);
        ownerMatch = new ScriptResolver(root, ScriptResolver.Symlinks.OWNER_MATCH);
        follow = new ScriptResolver(root, ScriptResolver.Symlinks.FOLLOW);
    }

    @AfterContainer
    static void cleanUp() throws Exception {
        kiln.close();
        try (Stream<Path> all = Files.walk(temp)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Property(tries = 400)
    void aDecodedPathResolvesInsideOrIsRefused(@ForAll("decodedPaths") String path) throws IOException {
        ScriptResolver.Result r = resolver.resolve(path);
        if (r.script() == null) {
            assertThat(r.refusal()).isNotNull();
            return;
        }
        Path file = r.script().file();
        assertThat(file).as(path).startsWith(resolver.root());
        assertThat(Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)).as(path).isTrue();
        assertThat(file.toRealPath()).as("its real path: " + path).isEqualTo(file);
    }

    @Property(tries = 200)
    void withOwnerMatchAPathResolvesInsideOrThroughALinkOfTheTargetsOwner(@ForAll("decodedPaths") String path)
            throws IOException {
        ScriptResolver.Result r = ownerMatch.resolve(path);
        if (r.script() != null) {
            Path file = r.script().file();
            assertThat(file).as(path).satisfiesAnyOf(f -> assertThat(f).startsWith(root),
                    f -> assertThat(f).startsWith(outside));
            assertRealRegularFile(path, file);
        }
    }

    @Property(tries = 200)
    void withFollowAPathResolvesInsideOrThroughAnyLink(@ForAll("decodedPaths") String path) throws IOException {
        ScriptResolver.Result r = follow.resolve(path);
        if (r.script() != null) {
            Path file = r.script().file();
            assertThat(file).as(path).satisfiesAnyOf(f -> assertThat(f).startsWith(root),
                    f -> assertThat(f).startsWith(outside), f -> assertThat(f).startsWith(foreign));
            assertRealRegularFile(path, file);
        }
    }

    private static void assertRealRegularFile(String path, Path file) throws IOException {
        assertThat(Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)).as(path).isTrue();
        assertThat(file.toRealPath()).as("its real path: " + path).isEqualTo(file);
    }

    @Property(tries = 150)
    void aRawRequestRunsAnInsideScriptOrIsRefused(@ForAll("rawPaths") String path) throws IOException {
        RawHttp.Reply reply = RawHttp.get(kiln.port(), "/cgi-bin" + path);
        assertThat(reply.text()).as(path).doesNotContain("OUTSIDE");
        if (reply.status() == 200) {
            // a dot segment may leave /cgi-bin/ for Kiln's own index page: no script runs there
            assertThat(reply.body()).as(path).satisfiesAnyOf(b -> assertThat(b).isEqualTo("inside\n"),
                    b -> assertThat(b).contains("<h1>Kiln</h1>"));
        } else {
            assertThat(reply.status()).as(path).isBetween(400, 499);
        }
    }

    @Provide
    Arbitrary<String> decodedPaths() {
        return paths(NAMES);
    }

    @Provide
    Arbitrary<String> rawPaths() {
        return paths(ENCODED);
    }

    private static Arbitrary<String> paths(List<String> segments) {
        return Arbitraries.of(segments).list().ofMinSize(1).ofMaxSize(5)
                .map(list -> "/" + String.join("/", list));
    }
}
