package dev.kiln.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.kiln.testing.StatusJson;

/**
 * The cache failing for real, with the real jar: Kiln running as an unprivileged user (root ignores permission
 * bits) against a cache it cannot write, a read-only mounted precompiled cache, and the precompile command.
 */
class CacheFaultsIT {
    static final String APP = "#!/usr/bin/python3\nimport sys\nimport helper\n"
            + "print('Content-Type: text/plain')\nprint()\n"
            + "print('answer', helper.answer(), sys.pycache_prefix is not None, sys.dont_write_bytecode)\n";
    static final String HELPER = "def answer():\n    return 42\n" + "X = 1\n".repeat(200);

    Path base;
    Path scripts;
    Path jar;
    final List<Process> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        base = Files.createTempDirectory("kiln-faults-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        scripts = Files.createDirectories(base.resolve("cgi-bin"));
        write(scripts.resolve("app.py"), APP);
        write(scripts.resolve("helper.py"), HELPER);
        jar = base.resolve("kiln.jar");
        Files.copy(Path.of(System.getProperty("kiln.jar", "target/kiln.jar")), jar, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : started) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
        run("rm", "-rf", base.toString());
    }

    static void write(Path p, String s) throws IOException {
        Files.writeString(p, s);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** A running Kiln jar and everything it logged. */
    record Running(Process process, int port, List<String> log) {
        String status() throws Exception {
            return get("/kiln/status").body();
        }

        HttpResponse<String> get(String path) throws Exception {
            return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20))
                            .build(), HttpResponse.BodyHandlers.ofString());
        }

        List<String> logged(String... fragments) {
            return log.stream().filter(l -> {
                for (String f : fragments) {
                    if (!l.contains(f)) {
                        return false;
                    }
                }
                return true;
            }).toList();
        }

        List<String> awaitLogged(long millis, String... fragments) throws InterruptedException {
            long end = System.currentTimeMillis() + millis;
            while (logged(fragments).isEmpty() && System.currentTimeMillis() < end) {
                Thread.sleep(50);
            }
            return logged(fragments);
        }
    }

    /** Starts the jar through {@code prefix} (e.g. setpriv, unshare), waits until it answers. */
    Running start(List<String> prefix, String... options) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(),
                "--port", Integer.toString(port), "--bind", "127.0.0.1", "--scripts", scripts.toString(),
                "--python", "/usr/bin/python3"));
        cmd.addAll(List.of(options));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(base.toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().put("HOME", base.toString());
        Process p = pb.start();
        started.add(p);
        List<String> log = new CopyOnWriteArrayList<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.add(line);
                }
            } catch (IOException e) {
                // ended
            }
        });
        t.setDaemon(true);
        t.start();
        Running running = new Running(p, port, log);
        long end = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < end) {
            assertThat(p.isAlive()).as("kiln exited: %s", log).isTrue();
            try {
                running.get("/kiln/status");
                return running;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("kiln did not answer: " + log);
    }

    static List<String> asNobody() {
        return List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups");
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", List.of(cmd), out).isZero();
        return out;
    }

    static long stat(String status, String script, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(script) + "\": \\{[^}]*\"" + field + "\": (\\d+)")
                .matcher(StatusJson.section(status, "scriptsStats"));
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static long pycCount(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> w = Files.walk(dir)) {
            return w.filter(p -> p.toString().endsWith(".pyc")).count();
        }
    }

    @Test
    void unwritableCacheIsLoggedOnceServedCorrectlyAndRecoversWithoutRestart() throws Exception {
        Path cache = Files.createDirectories(base.resolve("cache"));
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwxr-xr-x")); // root's, not nobody's
        Running kiln = start(asNobody(), "--cache", cache.toString());
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = kiln.get("/cgi-bin/app.py");
            assertThat(r.statusCode()).isEqualTo(200);
            // uncached but correct: no prefix (it would make CPython ignore the stdlib's own bytecode), no writes
            assertThat(r.body().strip()).isEqualTo("answer 42 False True");
        }
        List<String> warnings = kiln.logged("WARN", cache.toString());
        assertThat(warnings).as(String.join("\n", kiln.log())).hasSize(1);
        assertThat(warnings.get(0)).contains("EACCES").contains("runs as nobody (uid 65534)")
                .contains("owned by root with mode drwxr-xr-x").contains("SELinux")
                .contains("fix: chown -R nobody " + cache);
        assertThat(kiln.status()).contains("\"mode\": \"off\"").contains("\"healthy\": false").contains("EACCES");
        try (Stream<Path> w = Files.walk(scripts)) {
            assertThat(w.filter(p -> p.getFileName().toString().equals("__pycache__"))).isEmpty();
        }

        // the operator runs the fix the log gave; Kiln notices within seconds, no restart
        run("chown", "-R", "nobody:nogroup", cache.toString());
        run("chmod", "700", cache.toString());
        long end = System.currentTimeMillis() + 10_000;
        while (!kiln.status().contains("\"mode\": \"rw\"") && System.currentTimeMillis() < end) {
            kiln.get("/cgi-bin/app.py");
            Thread.sleep(300);
        }
        assertThat(kiln.awaitLogged(3000, "INFO", "caching resumed")).hasSize(1);
        assertThat(kiln.get("/cgi-bin/app.py").body().strip()).isEqualTo("answer 42 True False");
        HttpResponse<String> again = kiln.get("/cgi-bin/app.py");
        assertThat(again.body().strip()).isEqualTo("answer 42 True False");
        Thread.sleep(300);
        String status = kiln.status();
        assertThat(stat(status, "app.py", "lastRequestCompiled")).isZero();
        assertThat(stat(status, "app.py", "cacheHits")).isGreaterThanOrEqualTo(2);
        assertThat(pycCount(cache.resolve("py").resolve(scripts.toString().substring(1)))).isEqualTo(2);

        // a folder inside the cache breaks: one WARN for it, responses stay right, and it heals too
        Path mirror = cache.resolve("py").resolve(scripts.toString().substring(1));
        run("rm", "-rf", mirror.toString());
        Files.createDirectories(mirror);
        Files.setPosixFilePermissions(mirror, PosixFilePermissions.fromString("rwxr-xr-x")); // root's again
        for (int i = 0; i < 3; i++) {
            assertThat(kiln.get("/cgi-bin/app.py").body().strip()).isEqualTo("answer 42 True False");
        }
        List<String> inner = kiln.awaitLogged(3000, "WARN", mirror.toString(), "EACCES");
        assertThat(inner).hasSize(1);
        assertThat(inner.get(0)).contains("cache write ").contains("fix: chown -R nobody " + mirror);
        run("chown", "nobody:nogroup", mirror.toString());
        end = System.currentTimeMillis() + 10_000;
        while (kiln.logged(mirror.toString(), "usable again").isEmpty() && System.currentTimeMillis() < end) {
            kiln.get("/cgi-bin/app.py");
            Thread.sleep(300);
        }
        assertThat(kiln.logged("INFO", mirror.toString(), "usable again")).hasSize(1);
        assertThat(pycCount(mirror)).isEqualTo(2);
    }

    @Test
    void precompileThenServeFromAReadOnlyMountWithoutCompilingOrWarning() throws Exception {
        Path cache = base.resolve("image-cache");
        write(scripts.resolve("other.py"), "#!/usr/bin/env python3\nimport helper, json\n"
                + "print('Content-Type: text/plain\\n')\nprint(helper.answer())\n");
        Files.createDirectories(scripts.resolve("pkg"));
        write(scripts.resolve("pkg/__init__.py"), "from . import inner\n");
        write(scripts.resolve("pkg/inner.py"), "VALUE = 7\n");
        write(scripts.resolve("usespkg.py"), "#!/usr/bin/python3\nimport pkg\nprint('Content-Type: text/plain\\n')\n"
                + "print(pkg.inner.VALUE)\n");
        String out = run("java", "-jar", jar.toString(), "precompile", "--scripts", scripts.toString(), "--cache",
                cache.toString(), "--python", "/usr/bin/python3");
        assertThat(out).contains("precompiled").contains("0 errors").doesNotContain("\r[");
        Path mirror = cache.resolve("py").resolve(scripts.toString().substring(1));
        assertThat(pycCount(mirror)).as(out).isEqualTo(6); // app, helper, other, usespkg, pkg/__init__, pkg/inner
        // the image mounts the cache read-only; Kiln must use it as is
        String inner = "mount --bind " + cache + " " + cache + " && mount -o remount,bind,ro " + cache + " && exec \"$@\"";
        Running kiln = start(List.of("unshare", "-m", "sh", "-c", inner, "sh"), "--cache", cache.toString());
        for (String s : List.of("app.py", "other.py", "usespkg.py")) {
            assertThat(kiln.get("/cgi-bin/" + s).statusCode()).isEqualTo(200);
        }
        assertThat(kiln.get("/cgi-bin/app.py").body().strip()).isEqualTo("answer 42 True True");
        Thread.sleep(300);
        String status = kiln.status();
        assertThat(status).contains("\"mode\": \"ro\"");
        assertThat(stat(status, "app.py", "modulesCompiled")).isZero();
        assertThat(stat(status, "usespkg.py", "modulesCompiled")).isZero();
        assertThat(stat(status, "app.py", "cacheHits")).isEqualTo(4);
        write(scripts.resolve("late.py"), "#!/usr/bin/python3\nprint('Content-Type: text/plain\\n')\nprint('late')\n");
        assertThat(kiln.get("/cgi-bin/late.py").body().strip()).isEqualTo("late");
        assertThat(kiln.logged("WARN")).as(String.join("\n", kiln.log())).isEmpty();
        assertThat(kiln.logged("INFO", "read-only filesystem", "using its bytecode as is")).hasSize(1);
    }

    @Test
    void precompileListsSyntaxErrorsAndExitsNonZero() throws Exception {
        write(scripts.resolve("broken.py"), "#!/usr/bin/python3\nprint('fine')\ndef oops(:\n    pass\n");
        Files.createDirectories(scripts.resolve("lib"));
        write(scripts.resolve("lib/__init__.py"), "");
        write(scripts.resolve("lib/badmod.py"), "x = = 1\n");
        write(scripts.resolve("usesbad.py"), "#!/usr/bin/python3\nimport lib.badmod\n");
        ProcessBuilder pb = new ProcessBuilder("java", "-jar", jar.toString(), "precompile", "--scripts",
                scripts.toString(), "--cache", base.resolve("c").toString(), "--python", "/usr/bin/python3")
                .redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(1);
        assertThat(out).containsPattern(Pattern.quote(scripts.resolve("broken.py").toString()) + ":3: .*")
                .containsPattern(Pattern.quote(scripts.resolve("lib/badmod.py").toString()) + ":1: .*")
                .contains("2 errors");
    }

    @Test
    void precompileShowsAProgressBarOnATerminal() throws Exception {
        // script(1) gives the command a pseudo-terminal, as an operator's shell would
        String cmd = "java -jar " + jar + " precompile --scripts " + scripts + " --cache " + base.resolve("tty-cache")
                + " --python /usr/bin/python3";
        String out = run("script", "-qec", cmd, "/dev/null");
        assertThat(out).contains("\r[").contains("] 2/2").contains("precompiled 2 scripts");
    }

    @Test
    void pruneOnDemandRemovesWhatNoLongerHasASource() throws Exception {
        Path cache = base.resolve("prune-cache");
        run("java", "-jar", jar.toString(), "precompile", "--scripts", scripts.toString(), "--cache", cache.toString(),
                "--python", "/usr/bin/python3");
        Path mirror = cache.resolve("py").resolve(scripts.toString().substring(1));
        assertThat(pycCount(mirror)).isEqualTo(2);
        Files.delete(scripts.resolve("helper.py"));
        long size;
        try (Stream<Path> w = Files.list(mirror)) {
            size = w.filter(p -> p.getFileName().toString().startsWith("helper.")).mapToLong(p -> p.toFile().length()).sum();
        }
        String out = run("java", "-jar", jar.toString(), "prune", "--scripts", scripts.toString(), "--cache",
                cache.toString(), "--python", "/usr/bin/python3");
        assertThat(out).contains("pruned 1 files (" + size + " bytes)");
        assertThat(pycCount(mirror)).isEqualTo(1);
    }

    @Test
    void aReadOnlyCacheWhoseFilesKilnCannotReadIsReportedOnce() throws Exception {
        // built as root (files 0600), mounted read-only, served as nobody: without a word this would compile
        // on every request; Kiln says so once, with the fix
        Path cache = base.resolve("root-built-cache");
        run("java", "-jar", jar.toString(), "precompile", "--scripts", scripts.toString(), "--cache", cache.toString(),
                "--python", "/usr/bin/python3");
        run("sh", "-c", "find " + cache + " -type d -exec chmod 755 {} +");
        String inner = "mount --bind " + cache + " " + cache + " && mount -o remount,bind,ro " + cache
                + " && exec setpriv --reuid=nobody --regid=nogroup --clear-groups \"$@\"";
        Running kiln = start(List.of("unshare", "-m", "sh", "-c", inner, "sh"), "--cache", cache.toString());
        for (int i = 0; i < 4; i++) {
            assertThat(kiln.get("/cgi-bin/app.py").body().strip()).isEqualTo("answer 42 True True");
        }
        Path mirror = cache.resolve("py").resolve(scripts.toString().substring(1));
        List<String> warnings = kiln.awaitLogged(3000, "WARN", "EACCES");
        assertThat(warnings).as(String.join("\n", kiln.log())).hasSize(1);
        assertThat(warnings.get(0)).contains("cache read " + mirror).contains("runs as nobody")
                .contains("owned by root").contains("run precompile as nobody");
    }
}
