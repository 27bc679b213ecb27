package dev.kiln.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.testing.Jdks;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;

/**
 * Java scripts through a real Kiln: compiled once by their JDK's javac into the cache, freshness of every file
 * a compile read, compile errors, shebang files and compact source files. Each test has a folder of its own.
 */
class JavaScriptsTest {
    static final String HEAD = "System.out.print(\"Content-Type: text/plain\\r\\n\\r\\n\");";

    @TempDir
    static Path temp;
    static KilnTestServer kiln;

    @BeforeAll
    static void start() throws Exception {
        // start-up caches have their own test: here their background JVMs would only slow the others down
        kiln = KilnTestServer.builder(temp).option("java-startup-cache", "false").start();
    }

    @AfterAll
    static void stop() throws Exception {
        kiln.close();
    }

    static String classic(String name, String body) {
        return "public class " + name + " {\n    public static void main(String[] args) throws Exception {\n        "
                + HEAD + "\n        " + body + "\n    }\n}\n";
    }

    static JsonNode javaStats(String script) throws Exception {
        return kiln.status().path("javaScripts").path(script);
    }

    @Test
    void sixteenSimultaneousFirstRequestsCompileOnce() throws Exception {
        kiln.script("stampede/Hello.java", classic("Hello", "System.out.println(\"hello \" + args.length);"));
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                answers.add(pool.submit(() -> kiln.get("/cgi-bin/stampede/Hello.java")));
            }
            for (Future<HttpResponse<String>> a : answers) {
                assertThat(a.get().statusCode()).as(a.get().body()).isEqualTo(200);
                assertThat(a.get().body()).isEqualTo("hello 0\n");
            }
        } finally {
            pool.shutdownNow();
        }
        JsonNode stats = javaStats("stampede/Hello.java");
        assertThat(stats.path("compiles").asInt()).as("%s", stats).isEqualTo(1);
        assertThat(stats.path("requests").asInt()).isEqualTo(16);
        assertThat(stats.path("jdk").asText()).isNotEmpty();
        // Kiln's cache: folders 0750, files 0640, group the script user's (scripts run as another user here),
        // and the jar is what runs
        Path javaCache = temp.resolve("cache/java");
        try (Stream<Path> all = Files.walk(javaCache)) {
            for (Path p : all.toList()) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).as("%s", p)
                        .isEqualTo(Files.isDirectory(p) ? "rwxr-x---" : "rw-r-----");
            }
        }
        try (Stream<Path> all = Files.walk(javaCache)) {
            List<Path> jars = all.filter(p -> p.toString().endsWith(".jar")).filter(JavaScriptsTest::ofStampede)
                    .toList();
            assertThat(jars).hasSize(1);
        }
    }

    @Test
    void anEditToAnyFileOfAMultiFileProgramRecompilesIt() throws Exception {
        kiln.script("multi/Main.java", "import util.Greeter;\n" + classic("Main",
                "System.out.println(Greeter.greet() + \" \" + Helper.help());"));
        Path greeter = kiln.script("multi/util/Greeter.java",
                "package util;\npublic class Greeter {\n    public static String greet() { return \"g1\"; }\n}\n");
        Path helper = kiln.script("multi/Helper.java",
                "class Helper {\n    static String help() { return \"h1\"; }\n}\n");
        kiln.script("multi/Unused.java", "class Unused { }\n");
        assertThat(kiln.get("/cgi-bin/multi/Main.java").body()).isEqualTo("g1 h1\n");
        assertThat(kiln.get("/cgi-bin/multi/Main.java").body()).isEqualTo("g1 h1\n");
        assertThat(javaStats("multi/Main.java").path("compiles").asInt()).isEqualTo(1);

        edit(greeter, "\"g1\"", "\"g22\"");
        assertThat(kiln.get("/cgi-bin/multi/Main.java").body()).isEqualTo("g22 h1\n");
        edit(helper, "\"h1\"", "\"h333\"");
        assertThat(kiln.get("/cgi-bin/multi/Main.java").body()).isEqualTo("g22 h333\n");
        // a file the program does not use is not one of its inputs
        edit(kiln.scripts().resolve("multi/Unused.java"), "{ }", "{ int x; }");
        assertThat(kiln.get("/cgi-bin/multi/Main.java").body()).isEqualTo("g22 h333\n");
        assertThat(javaStats("multi/Main.java").path("compiles").asInt()).isEqualTo(3);
    }

    @Test
    void aHelperClassWithoutMainIsNotListedAndARequestForItIsRefusedWith403AndALogLine() throws Exception {
        kiln.script("siblings/App.java", classic("App", "System.out.println(Part.name());"));
        Path part = kiln.script("siblings/Part.java", "class Part {\n    static String name() { return \"part\"; }\n}\n");
        assertThat(kiln.get("/").body()).contains("siblings/App.java").doesNotContain("siblings/Part.java");
        try (LogCapture logs = LogCapture.capture()) {
            assertThat(kiln.get("/cgi-bin/siblings/Part.java").statusCode()).isEqualTo(403);
            assertThat(logs.matching("GET /cgi-bin/siblings/Part.java: 403", "it is a class other Java scripts use "
                    + "(it has no main method)")).as("%s", logs.lines()).hasSize(1);
        }
        assertThat(kiln.get("/cgi-bin/siblings/App.java").body()).isEqualTo("part\n");
        assertThat(javaStats("siblings/Part.java").isMissingNode()).as("never compiled on its own").isTrue();

        // given a main method, it is a program of its own: listed and run
        edit(part, "    static String name()", "    public static void main(String[] a) {\n        " + HEAD
                + "\n        System.out.println(\"own\");\n    }\n    static String name()");
        assertThat(kiln.get("/").body()).contains("siblings/Part.java");
        assertThat(kiln.get("/cgi-bin/siblings/Part.java").body()).isEqualTo("own\n");
    }

    @Test
    void aFileSeenWithAnotherInodeButTheSameContentIsNotRecompiledOtherContentIs() throws Exception {
        Path script = kiln.script("inode/Same.java", classic("Same", "System.out.println(\"one\");"));
        assertThat(kiln.get("/cgi-bin/inode/Same.java").body()).isEqualTo("one\n");
        // what a container's overlay (or a copy keeping times) shows: same size and time, another inode
        replaceKeepingTime(script, Files.readString(script));
        assertThat(kiln.get("/cgi-bin/inode/Same.java").body()).isEqualTo("one\n");
        assertThat(javaStats("inode/Same.java").path("compiles").asInt()).isEqualTo(1);
        replaceKeepingTime(script, Files.readString(script).replace("\"one\"", "\"two\""));
        assertThat(kiln.get("/cgi-bin/inode/Same.java").body()).isEqualTo("two\n");
        assertThat(javaStats("inode/Same.java").path("compiles").asInt()).isEqualTo(2);
    }

    /** Writes a new file (a new inode) over {@code file} with its size and modification time. */
    static void replaceKeepingTime(Path file, String content) throws Exception {
        FileTime time = Files.getLastModifiedTime(file);
        Path next = file.resolveSibling(".next");
        Files.writeString(next, content);
        assertThat(Files.size(next)).isEqualTo(Files.size(file));
        Files.setPosixFilePermissions(next, Files.getPosixFilePermissions(file));
        Files.setLastModifiedTime(next, time);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void compileErrorsAnswer500AreLoggedOneLineEachAndAreNotRecompiledUntilAnEdit() throws Exception {
        Path broken = kiln.script("broken/Broken.java", classic("Broken", "int x = \"text\";\n        missing();"));
        try (LogCapture logs = LogCapture.capture()) {
            assertThat(kiln.get("/cgi-bin/broken/Broken.java").statusCode()).isEqualTo(500);
            assertThat(kiln.get("/cgi-bin/broken/Broken.java").statusCode()).isEqualTo(500);
            assertThat(logs.matching("[kiln.java] " + broken + ":4: incompatible types: String cannot be converted to int"))
                    .as("%s", logs.lines()).hasSize(1);
            assertThat(logs.matching("[kiln.java] " + broken + ":5: cannot find symbol (method missing())")).hasSize(1);
            assertThat(logs.matching("GET /cgi-bin/broken/Broken.java: 500", "does not compile (2 errors"))
                    .hasSize(2);
        }
        assertThat(javaStats("broken/Broken.java").path("compiles").asInt()).isEqualTo(1);
        assertThat(javaStats("broken/Broken.java").path("compileErrors").asInt()).isEqualTo(1);

        // what was missing appears in a new file of the folder: that is an edit too
        edit(broken, "int x = \"text\";", "String x = \"text\";");
        kiln.script("broken/Missing.java", "class Missing {\n}\n");
        edit(broken, "missing();", "System.out.println(x + new Missing().getClass().getName());");
        HttpResponse<String> fixed = kiln.get("/cgi-bin/broken/Broken.java");
        assertThat(fixed.statusCode()).as(fixed.body()).isEqualTo(200);
        assertThat(fixed.body()).isEqualTo("textMissing\n");
    }

    @Test
    void aShebangFileRunsWithTheJavaItNames() throws Exception {
        kiln.script("shebang/hello", "#!/usr/bin/env java --source 17\n" + classic("Hi",
                "System.out.println(\"feature \" + Runtime.version().feature() + \" \" + System.getenv(\"X\"));"));
        HttpResponse<String> r = kiln.get("/cgi-bin/shebang/hello");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("feature " + javaOnPathFeature() + " null\n");
        // without --source a file not named .java is no Java program: Kiln runs its #! line as written
        kiln.script("shebang/nosource", "#!/usr/bin/java\n" + classic("No", ""));
        assertThat(kiln.get("/cgi-bin/shebang/nosource").statusCode()).isNotEqualTo(200);
    }

    @Test
    void compactSourceFilesRunOnJdk25() throws Exception {
        Jdks.assumeJdk25();
        kiln.script("compact/app", "#!" + Jdks.JDK25 + " --source 25\n"
                + "String greeting() { return \"compact\"; }\n\n"
                + "void main() {\n    IO.print(\"Content-Type: text/plain\\r\\n\\r\\n\");\n"
                + "    IO.println(greeting() + \" \" + Runtime.version().feature());\n}\n");
        HttpResponse<String> r = kiln.get("/cgi-bin/compact/app");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("compact 25\n");
        assertThat(javaStats("compact/app").path("jdk").asText()).startsWith("25");
    }

    static boolean ofStampede(Path jar) {
        try {
            return Files.readString(jar.resolveSibling("manifest")).contains("stampede/Hello.java");
        } catch (IOException e) {
            return false;
        }
    }

    static int javaOnPathFeature() throws Exception {
        Path java = Path.of("/usr/bin/java").toRealPath();
        String release = Files.readString(java.getParent().getParent().resolve("release"));
        return Integer.parseInt(release.replaceAll("(?s).*JAVA_VERSION=\"([0-9]+).*", "$1"));
    }

    /** Rewrites a file with a later modification time, as an editor would. */
    static void edit(Path file, String from, String to) throws Exception {
        FileTime before = Files.getLastModifiedTime(file);
        Files.writeString(file, Files.readString(file).replace(from, to));
        Files.setLastModifiedTime(file, FileTime.fromMillis(before.toMillis() + 2000));
        Files.setLastModifiedTime(file.getParent(), FileTime.fromMillis(before.toMillis() + 2000));
    }
}
