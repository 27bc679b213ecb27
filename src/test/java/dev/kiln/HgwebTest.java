package dev.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.StatusJson;

/**
 * Mercurial's own {@code hgweb.cgi} (Debian's mercurial package), an application nobody here wrote, served by a
 * real Kiln: browser pages that depend on SCRIPT_NAME and PATH_INFO, raw bytes, static files, a 404, and the
 * HTTP wire protocol ({@code hg clone}, {@code hg pull}) run by the real {@code /usr/bin/hg}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HgwebTest {
    static final String HG = "/usr/bin/hg";
    static final Path HGWEB_CGI = Path.of("/usr/share/doc/mercurial-common/examples/hgweb.cgi");
    static final Path HG_STATIC = Path.of("/usr/lib/python3/dist-packages/mercurial/templates/static");
    static final String APP = "/cgi-bin/hg/hgweb.cgi";
    static final Duration HG_WAIT = Duration.ofSeconds(60);
    static final String LOG_TEMPLATE = "{node} {branch} {tags} {p1node} {p2node} {desc|firstline}\\n";

    @TempDir
    static Path temp;

    static Path repo;
    static Path home;
    static byte[] logo;
    static KilnTestServer kiln;

    @BeforeAll
    static void setUp() throws Exception {
        assertThat(Path.of(HG)).as("Debian's mercurial (bin/setup-machine --test installs it)").isExecutable();
        assertThat(HGWEB_CGI).isRegularFile();
        home = Files.createDirectories(temp.resolve("home"));
        repo = temp.resolve("repo");
        hgOk(temp, "init", repo.toString());

        write(repo.resolve("README.txt"), "Kiln sample repository\nserved by hgweb.cgi through Kiln\n");
        write(repo.resolve("src/hello.c"), "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n");
        write(repo.resolve("docs/guide/intro.md"), "# Intro\n\nThe guide lives in a subfolder.\n");
        commit("Initial import of the sample project", 1);

        logo = binaryContent();
        Files.createDirectories(repo.resolve("assets"));
        Files.write(repo.resolve("assets/logo.png"), logo);
        commit("Add a binary logo", 2);

        write(repo.resolve("src/hello.c"),
                "#include <stdio.h>\nint main(void) { puts(\"hello, kiln-greeting-7f3a\"); return 0; }\n");
        commit("Teach hello.c to greet Kiln", 3);

        hgOk(repo, "tag", "-d", "2024-01-04 12:00 +0000", "-m", "Tag release v1.0", "v1.0");

        hgOk(repo, "branch", "feature-x");
        write(repo.resolve("docs/guide/intro.md"), "# Intro\n\nThe guide lives in a subfolder.\nFeature x.\n");
        commit("Start feature x on its own branch", 5);

        hgOk(repo, "update", "default");
        write(repo.resolve("README.txt"), "Kiln sample repository\nserved by hgweb.cgi through Kiln\n"
                + "See branch feature-x.\n");
        commit("Mention the feature branch in the README", 6);

        String path = repo.toString();
        assertThat(path).as("repository path usable in a Python bytes literal").matches("[A-Za-z0-9/._+-]+");
        String cgi = Files.readString(HGWEB_CGI, StandardCharsets.UTF_8);
        String original = "config = b\"/path/to/repo/or/config\"";
        assertThat(cgi).contains(original);
        Path scripts = temp.resolve("cgi-bin");
        KilnTestServer.writeScript(scripts, "hg/hgweb.cgi",
                cgi.replace(original, "config = b\"" + path + "\""));

        kiln = KilnTestServer.builder(temp)
                .option("scripts", scripts.toString())
                // hgweb.cgi says #!/usr/bin/env python3: Debian's python3, which sees dist-packages
                .option("env", "PATH=/usr/bin:/bin,HGRCPATH=,HGENCODING=utf-8,HGPLAIN=1")
                .hostEnv("HOME", home.toString())
                .start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (kiln != null) {
            kiln.close();
        }
    }

    // ------------------------------------------------------------------ browsing

    @Test
    @Order(1)
    void rootPageIsTheRepositoryOverview() throws Exception {
        HttpResponse<String> r = kiln.get(APP + "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("text/html"));
        assertThat(r.body())
                .contains("Mention the feature branch in the README")
                .contains("Teach hello.c to greet Kiln")
                // links are built from SCRIPT_NAME: wrong SCRIPT_NAME, wrong links
                .contains("<title>" + APP + ": log</title>")
                .contains("href=\"" + APP + "/file/tip\"")
                .contains("href=\"" + APP + "/static/style-paper.css\"")
                // the root view is the short log (60 entries, 'more' doubles it)
                .contains(APP + "/shortlog/tip?revcount=120");
    }

    @Test
    @Order(2)
    void logPageListsEveryCommit() throws Exception {
        HttpResponse<String> r = kiln.get(APP + "/log");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("text/html"));
        assertThat(r.body())
                .contains("Initial import of the sample project", "Add a binary logo",
                        "Teach hello.c to greet Kiln", "Tag release v1.0", "Start feature x on its own branch",
                        "Mention the feature branch in the README")
                .contains("v1.0")
                .contains("feature-x")
                // PATH_INFO /log reached the log command (10 entries, 'more' gives 20), not the root view
                .contains(APP + "/shortlog/tip?revcount=20")
                .doesNotContain("revcount=120");
    }

    @Test
    @Order(3)
    void filePageShowsTheFileInItsSubfolder() throws Exception {
        HttpResponse<String> r = kiln.get(APP + "/file/tip/src/hello.c");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("text/html"));
        assertThat(r.body())
                .contains("kiln-greeting-7f3a")
                .contains("&lt;stdio.h&gt;")
                .contains("view src/hello.c @ ")
                .contains("href=\"" + APP + "/raw-file/tip/src/hello.c\"")
                .contains("href=\"" + APP + "/file/tip/src/\"");

        HttpResponse<String> dir = kiln.get(APP + "/file/tip/docs/guide/");
        assertThat(dir.statusCode()).as(dir.body()).isEqualTo(200);
        assertThat(dir.body()).contains("intro.md").doesNotContain("hello.c");
    }

    @Test
    @Order(4)
    void rawFileIsByteForByteTheCommittedFile() throws Exception {
        HttpResponse<byte[]> r = kiln.client().send(
                HttpRequest.newBuilder(kiln.uri(APP + "/raw-file/tip/assets/logo.png"))
                        .timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(logo);
        // hgweb's own choice for binary files (web.guessmime is off by default)
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/binary");
        assertThat(r.headers().firstValueAsLong("Content-Length")).hasValue(logo.length);

        HttpResponse<String> text = kiln.get(APP + "/raw-file/tip/README.txt");
        assertThat(text.statusCode()).isEqualTo(200);
        assertThat(text.body()).isEqualTo(Files.readString(repo.resolve("README.txt")));
    }

    @Test
    @Order(5)
    void staticFilesComeFromPathInfo() throws Exception {
        HttpResponse<byte[]> r = kiln.client().send(
                HttpRequest.newBuilder(kiln.uri(APP + "/static/style.css"))
                        .timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("text/css"));
        assertThat(r.body()).isEqualTo(Files.readAllBytes(HG_STATIC.resolve("style.css")));

        HttpResponse<byte[]> icon = kiln.client().send(
                HttpRequest.newBuilder(kiln.uri(APP + "/static/hgicon.png"))
                        .timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(icon.statusCode()).isEqualTo(200);
        assertThat(icon.body()).isEqualTo(Files.readAllBytes(HG_STATIC.resolve("hgicon.png")));
    }

    @Test
    @Order(6)
    void missingFileIsHgwebsOwn404Page() throws Exception {
        HttpResponse<String> r = kiln.get(APP + "/file/tip/no/such-file.txt");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("text/html"));
        // hgweb's page (not Kiln's): it names the path it was given in PATH_INFO
        assertThat(r.body())
                .contains("<title>" + APP + ": error</title>")
                .contains("no/such-file.txt");

        // a script path that does not exist is Kiln's 404, hgweb never runs
        HttpResponse<String> none = kiln.get("/cgi-bin/hg/nothing.cgi/log");
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(none.body()).doesNotContain("Mercurial");
    }

    // ------------------------------------------------------------------ wire protocol

    @Test
    @Order(10)
    void cloneOverHttpGivesAnIdenticalRepository() throws Exception {
        Path dest = temp.resolve("clone");
        Hg clone = hg(temp, "clone", url(), dest.toString());
        assertThat(clone.exit()).as(clone.output()).isZero();
        assertThat(clone.output()).contains("requesting all changes").contains("added 6 changesets");

        List<String> source = changesets(repo);
        assertThat(source).hasSize(6);
        assertThat(source).anySatisfy(c -> assertThat(c).contains(" feature-x ", "Start feature x"))
                .anySatisfy(c -> assertThat(c).contains(" default v1.0 ", "Teach hello.c"));
        assertThat(changesets(dest)).isEqualTo(source);

        Hg verify = hg(dest, "verify");
        assertThat(verify.exit()).as(verify.output()).isZero();
        assertThat(verify.output()).contains("checked 6 changesets");

        assertThat(hgOk(dest, "id", "-i")).isEqualTo(hgOk(repo, "id", "-i"));
        assertThat(workingFiles(dest)).isEqualTo(workingFiles(repo));
        assertThat(Files.readAllBytes(dest.resolve("assets/logo.png"))).isEqualTo(logo);
    }

    @Test
    @Order(11)
    void pullBringsExactlyTheNewCommit() throws Exception {
        Path dest = temp.resolve("follower");
        Hg clone = hg(temp, "clone", "-U", url(), dest.toString());
        assertThat(clone.exit()).as(clone.output()).isZero();
        Set<String> before = new LinkedHashSet<>(nodes(dest));

        Hg nothing = hg(dest, "pull");
        assertThat(nothing.exit()).as(nothing.output()).isZero();
        assertThat(nothing.output()).contains("no changes found");

        write(repo.resolve("src/late.txt"), "added after the clone\n");
        commit("Late change after the clone", 7);
        String newNode = hgOk(repo, "log", "-r", "tip", "-T", "{node}").strip();

        Hg pull = hg(dest, "pull");
        assertThat(pull.exit()).as(pull.output()).isZero();
        assertThat(pull.output()).contains("added 1 changesets");

        List<String> after = nodes(dest);
        Set<String> added = new LinkedHashSet<>(after);
        added.removeAll(before);
        assertThat(added).containsExactly(newNode);
        assertThat(after).containsAll(before);
        assertThat(changesets(dest)).isEqualTo(changesets(repo));
        assertThat(hgOk(dest, "cat", "-r", newNode, "src/late.txt")).isEqualTo("added after the clone\n");
    }

    // ------------------------------------------------------------------ afterwards

    @Test
    @Order(99)
    void scriptsFolderStaysCleanAndStatusCountsRequests() throws Exception {
        try (Stream<Path> files = Files.walk(kiln.scripts())) {
            assertThat(files.filter(p -> p.getFileName().toString().equals("__pycache__")))
                    .as("bytecode written into the scripts folder").isEmpty();
        }
        try (Stream<Path> files = Files.walk(kiln.scripts())) {
            assertThat(files.filter(Files::isRegularFile).map(p -> kiln.scripts().relativize(p).toString()))
                    .containsExactly("hg/hgweb.cgi");
        }

        HttpResponse<String> status = kiln.get("/kiln/status");
        assertThat(status.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("\"hg/hgweb\\.cgi\": \\{\"requests\": (\\d+)")
                .matcher(StatusJson.section(status.body(), "scriptsStats"));
        assertThat(m.find()).as(status.body()).isTrue();
        // at least the browser pages above plus the clone's and pulls' wire-protocol requests
        assertThat(Long.parseLong(m.group(1))).isGreaterThan(10);
    }

    // ------------------------------------------------------------------ helpers

    static String url() {
        return "http://127.0.0.1:" + kiln.port() + APP;
    }

    static List<String> changesets(Path dir) throws Exception {
        return hgOk(dir, "log", "--debug", "-r", "all()", "-T", LOG_TEMPLATE).lines().toList();
    }

    static List<String> nodes(Path dir) throws Exception {
        return hgOk(dir, "log", "-r", "all()", "-T", "{node}\\n").lines().toList();
    }

    static void commit(String message, int day) throws Exception {
        // -A: new files are added with the commit
        hgOk(repo, "commit", "-A", "-m", message, "-d", String.format("2024-01-%02d 12:00 +0000", day));
    }

    /** Every file of the working copy (outside .hg) with its content. */
    static Map<String, String> workingFiles(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                Path rel = dir.relativize(p);
                if (!rel.getName(0).toString().equals(".hg")) {
                    out.put(rel.toString(), HexFormat.of().formatHex(Files.readAllBytes(p)));
                }
            }
        }
        return out;
    }

    static byte[] binaryContent() {
        byte[] b = new byte[3000];
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        System.arraycopy(png, 0, b, 0, png.length);
        long x = 0x2545F4914F6CDD1DL;
        for (int i = png.length; i < b.length; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            b[i] = (byte) x;
        }
        b[100] = 0;
        b[101] = '\r';
        b[102] = '\n';
        b[103] = '\n';
        return b;
    }

    static void write(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }

    record Hg(int exit, String output) {
    }

    static String hgOk(Path cwd, String... args) throws Exception {
        Hg r = hg(cwd, args);
        assertThat(r.exit()).as("hg %s: %s", String.join(" ", args), r.output()).isZero();
        return r.output();
    }

    /** Runs /usr/bin/hg with a clean environment (no ambient HG* config), waiting at most {@link #HG_WAIT}. */
    static Hg hg(Path cwd, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(HG);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/bin:/bin");
        env.put("HOME", home.toString());
        env.put("HGPLAIN", "1");
        env.put("HGRCPATH", "");
        env.put("HGUSER", "Kiln Test <kiln-test@example.invalid>");
        env.put("HGENCODING", "utf-8");
        env.put("LANG", "C.UTF-8");
        env.put("TZ", "UTC");
        Path out = Files.createTempFile(temp, "hg-", ".out");
        pb.redirectErrorStream(true).redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(
                Path.of("/dev/null").toFile()));
        Process p = pb.start();
        if (!p.waitFor(HG_WAIT.toSeconds(), TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            throw new AssertionError("hg " + String.join(" ", args) + " did not finish within " + HG_WAIT
                    + ": " + Files.readString(out, StandardCharsets.UTF_8));
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        Files.delete(out);
        return new Hg(p.exitValue(), text);
    }
}
