package dev.kiln.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.testing.Jdks;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.Poll;

/**
 * Start-up caches: built in the background after a script's first good run (a dynamic CDS archive on JDK 17, an
 * AOT cache on JDK 25), used by the requests after it, dropped with the jar; a JDK that cannot build one is said
 * so once. Also precompile and prune of Java scripts.
 */
class JavaStartupCacheTest {
    static final String ARGS = "System.out.println(java.lang.management.ManagementFactory.getRuntimeMXBean()"
            + ".getInputArguments());";

    @TempDir
    static Path temp;
    static KilnTestServer kiln;

    @BeforeAll
    static void start() throws Exception {
        kiln = KilnTestServer.builder(temp).start();
    }

    @AfterAll
    static void stop() throws Exception {
        kiln.close();
    }

    static String aot(String script) throws Exception {
        return kiln.status().path("javaScripts").path(script).path("aot").asText();
    }

    @ParameterizedTest(name = "JDK {0}")
    @ValueSource(strings = {"17", "25"})
    void aStartupCacheIsBuiltInTheBackgroundAfterTheFirstGoodRunAndUsedFromThen(String feature) throws Exception {
        String java;
        String option;
        if (feature.equals("25")) {
            Jdks.assumeJdk25();
            java = Jdks.JDK25.toString();
            option = "-XX:AOTCache=";
        } else {
            java = "/usr/bin/java";
            option = "-XX:SharedArchiveFile=";
        }
        String name = "aot" + feature + "/args";
        Path script = kiln.script(name, "#!" + java + " --source " + feature + "\n"
                + JavaScriptsTest.classic("Args", ARGS));
        HttpResponse<String> first = kiln.get("/cgi-bin/" + name);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(first.body()).doesNotContain(option);
        assertThat(aot(name)).as("the first response did not wait for the cache").isIn("none", "building");

        Poll.within(Duration.ofSeconds(40)).until("start-up cache of " + name, () -> aot(name), "ready"::equals);
        HttpResponse<String> next = kiln.get("/cgi-bin/" + name);
        assertThat(next.body()).contains(option + temp.resolve("cache/java"));
        String file = next.body().replaceAll("(?s).*" + option + "([^,\\]]+).*", "$1").strip();
        assertThat(Path.of(file)).isRegularFile();
        // the cache's files: Kiln's, readable by the script user's group (scripts run as another user here)
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(file)))).isEqualTo("rw-r-----");

        // an edit makes a new jar: the old cache is not used with it, and goes once the jar after it is made
        JavaScriptsTest.edit(script, "getInputArguments());", "getInputArguments() + \" edited\");");
        HttpResponse<String> edited = kiln.get("/cgi-bin/" + name);
        assertThat(edited.body()).endsWith(" edited\n").doesNotContain(option);
    }

    /** Any JDK does (the background test covers both kinds): the JDK on PATH, whose is a dynamic CDS archive. */
    @Test
    void precompileWithStartupCachesLeavesTheFirstRequestOfTheNextKilnNothingToBuild(@TempDir Path own) throws Exception {
        String java = "/usr/bin/java";
        String option = "-XX:SharedArchiveFile=";
        String body = "java.nio.file.Files.writeString(java.nio.file.Path.of(\"runs\"), System.getProperty(\"user.name\")\n"
                + "            + \"|\" + System.getenv(\"KILN_TRAINING_RUN\") + \"|\" + System.getenv(\"REQUEST_METHOD\") + \"|\"\n"
                + "            + System.getenv(\"QUERY_STRING\") + \"\\n\", java.nio.file.StandardOpenOption.CREATE,\n"
                + "            java.nio.file.StandardOpenOption.APPEND);\n        " + ARGS;
        Path folder = KilnTestServer.scriptWritable(own.resolve("cgi-bin/warm")); // it notes its runs there
        KilnTestServer.writeScript(own.resolve("cgi-bin"), "warm/Warm.java", JavaScriptsTest.classic("Warm", body));
        try (KilnTestServer k = KilnTestServer.builder(own).option("java", java).start();
             LogCapture logs = LogCapture.capture()) {
            JavaScripts.Precompiled p = k.kiln().java().precompile(true);
            assertThat(p.compiled()).isEqualTo(1);
            assertThat(p.startupCaches()).as("%s", logs.lines()).isEqualTo(1);
            assertThat(k.kiln().java().precompile(true).startupCaches()).as("kept, not built again").isEqualTo(1);
            assertThat(logs.matching("warm/Warm.java: built its start-up cache")).hasSize(1);
        }
        try (KilnTestServer next = KilnTestServer.builder(own).option("java", java).start();
             LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> first = next.get("/cgi-bin/warm/Warm.java?q=1");
            assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
            assertThat(first.body()).contains(option + own.resolve("cache/java"));
            assertThat(aotOf(next, "warm/Warm.java")).isEqualTo("ready");
            assertThat(next.status().path("javaScripts").path("warm/Warm.java").path("compiles").asInt()).isZero();
            assertThat(logs.matching("compiled ")).isEmpty();
            assertThat(logs.matching("built its start-up cache")).isEmpty();
        }
        // the training run: a plain GET, as the script user (the same user as the request's run)
        List<String> runs = Files.readAllLines(folder.resolve("runs"));
        assertThat(runs).hasSize(2);
        assertThat(runs.get(0)).endsWith("|1|GET|");
        assertThat(runs.get(1)).endsWith("|null|GET|q=1");
        assertThat(runs.get(0).split("\\|")[0]).isEqualTo(runs.get(1).split("\\|")[0]).isNotEqualTo("root");
    }

    static String aotOf(KilnTestServer k, String script) throws Exception {
        return k.status().path("javaScripts").path(script).path("aot").asText();
    }

    @Test
    void aCacheThatCannotBeBuiltIsSaidOnceAndTheScriptRunsWithout() throws Exception {
        // the second run (the training run) fails, every other run succeeds
        String body = "java.nio.file.Path n = java.nio.file.Path.of(\"runs\");\n"
                + "        int runs = java.nio.file.Files.exists(n) ? Integer.parseInt(java.nio.file.Files.readString(n)) : 0;\n"
                + "        java.nio.file.Files.writeString(n, Integer.toString(runs + 1));\n"
                + "        java.nio.file.Files.writeString(java.nio.file.Path.of(\"seen\"), System.getenv(\"QUERY_STRING\") + \"|\"\n"
                + "            + System.getenv(\"HTTP_COOKIE\") + \"|\" + System.getenv(\"KILN_TRAINING_RUN\") + \"|\"\n"
                + "            + System.getProperty(\"user.name\") + \"\\n\",\n"
                + "            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);\n"
                + "        if (runs == 1) { System.exit(3); }\n"
                + "        " + ARGS;
        KilnTestServer.scriptWritable(kiln.scripts().resolve("noaot")); // it counts its runs in its folder
        kiln.script("noaot/Flaky.java", JavaScriptsTest.classic("Flaky", body));
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> first = kiln.send(HttpRequest.newBuilder(kiln.uri("/cgi-bin/noaot/Flaky.java?secret=1"))
                    .header("Cookie", "session=private").GET().build());
            assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
            Poll.within(Duration.ofSeconds(40)).until("failed cache", () -> aot("noaot/Flaky.java"),
                    s -> s.startsWith("failed"));
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = kiln.get("/cgi-bin/noaot/Flaky.java");
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).doesNotContain("SharedArchiveFile");
            }
            assertThat(logs.matching("noaot/Flaky.java: cannot build a start-up cache",
                    "the training run failed (exit status 3); it runs without one")).as("%s", logs.lines()).hasSize(1);
        }
        assertThat(aot("noaot/Flaky.java")).isEqualTo("failed: the training run failed (exit status 3)");
        // the training run was a plain GET (the first request's query and cookie were not replayed), as the script
        // user: the user the request ran as, not Kiln's
        List<String> seen = Files.readAllLines(kiln.scripts().resolve("noaot/seen")).subList(0, 2);
        String user = seen.get(0).substring(seen.get(0).lastIndexOf('|') + 1);
        assertThat(user).isNotEqualTo("root");
        assertThat(seen).containsExactly("secret=1|session=private|null|" + user, "|null|1|" + user);
    }

    @Test
    void precompileCompilesEveryJavaProgramAndPruneDropsEntriesOfGoneScriptsAndJdks(@TempDir Path own) throws Exception {
        Path jdk = ownJdk(own.resolve("jdk"));
        String version = Files.readString(jdk.resolve("release")).replaceAll("(?s).*JAVA_VERSION=\"([^\"]+)\".*", "$1");
        try (KilnTestServer k = KilnTestServer.builder(own).option("java", jdk.resolve("bin/java").toString()).start()) {
            Path app = k.script("App.java", "class App {\n    public static void main(String[] a) {\n"
                    + "        System.out.print(\"Content-Type: text/plain\\r\\n\\r\\n\" + Lib.x());\n    }\n}\n");
            k.script("Lib.java", "class Lib {\n    static String x() { return \"lib\"; }\n}\n");
            k.script("Bad.java", "class Bad {\n    public static void main(String[] a) { nope(); }\n}\n");
            JavaScripts java = k.kiln().java();
            JavaScripts.Precompiled first = java.precompile(false);
            assertThat(first.scripts()).as("App and Bad: Lib has no main").isEqualTo(2);
            assertThat(first.compiled()).isEqualTo(2);
            assertThat(first.errors()).singleElement().asString().startsWith(own.resolve("cgi-bin/Bad.java") + ":2: ");
            // javac itself gets a class archive after the first compile, in the background
            Poll.within(Duration.ofSeconds(40)).until("javac archive", () -> {
                try (var files = Files.list(own.resolve("cache/java"))) {
                    return files.anyMatch(f -> f.getFileName().toString().matches("javac-[0-9a-f]{16}\\.jsa"));
                }
            });
            assertThat(own.resolve("cache/java")).isDirectoryContaining("regex:.*/javac-[0-9a-f]{16}\\.javac");
            JavaScripts.Precompiled again = java.precompile(false);
            assertThat(again.compiled()).isZero();
            assertThat(again.fresh()).isEqualTo(2);
            assertThat(k.get("/cgi-bin/App.java").body()).isEqualTo("lib");
            assertThat(k.status().path("javaScripts").path("App.java").path("compiles").asInt()).isEqualTo(1);

            Path entries = own.resolve("cache/java");
            assertThat(java.prune()).isZero();
            Files.delete(app);
            assertThat(java.prune()).isEqualTo(1);
            try (var left = Files.list(entries)) {
                List<Path> dirs = left.toList();
                assertThat(dirs.stream().filter(Files::isDirectory).filter(d -> !d.getFileName().toString().startsWith(".")))
                        .hasSize(1); // Bad.java's entry (a build folder of javac's archive may still be going)
            }

            // a JDK upgraded in place (same path, another version) is gone too: its scripts compile anew
            assertThat(JdkRegistry.installed(jdk.resolve("bin/java"), version)).isTrue();
            assertThat(JdkRegistry.installed(jdk.resolve("bin/java"), version + ".1")).isFalse();
            Poll.within(Duration.ofSeconds(40)).until("App's training run", () -> !k.status().path("javaScripts")
                    .path("App.java").path("aot").asText().equals("building"));
            JavaCache.removeTree(jdk);
            try (LogCapture logs = LogCapture.capture()) {
                assertThat(java.prune()).as("Bad.java's entry and javac's archive").isEqualTo(2);
                assertThat(logs.matching("pruned the cached jar of " + k.scripts().resolve("Bad.java"),
                        "(JDK " + version + " at " + jdk.resolve("bin/java") + " is gone)")).as("%s", logs.lines()).hasSize(1);
                assertThat(logs.matching("pruned javac's class archive", "(JDK " + version + " at "
                        + jdk.resolve("bin/javac") + " is gone)")).hasSize(1);
            }
            try (var left = Files.list(entries)) {
                assertThat(left.filter(f -> !f.getFileName().toString().startsWith("."))).isEmpty();
            }
        }
    }

    /** A JDK of its own under {@code dir}: launchers that exec the real ones, and a copy of its release file. */
    static Path ownJdk(Path dir) throws Exception {
        Path real = Path.of("/usr/bin/java").toRealPath().getParent().getParent();
        Path jdk = Files.createDirectories(dir.resolve("bin")).getParent();
        for (String tool : List.of("java", "javac")) {
            Files.writeString(jdk.resolve("bin/" + tool), "#!/bin/sh\nexec " + real.resolve("bin/" + tool) + " \"$@\"\n");
            Files.setPosixFilePermissions(jdk.resolve("bin/" + tool), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.setPosixFilePermissions(jdk.resolve("bin"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(jdk, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.copy(real.resolve("release"), jdk.resolve("release"));
        return jdk;
    }
}
