package dev.kiln.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.testing.Bytecode;
import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnJar;
import dev.kiln.testing.Poll;

/**
 * The cache failing for real, with the real jar: Kiln running as an unprivileged user (root ignores permission
 * bits) against a cache it cannot write, a read-only mounted precompiled cache, and the precompile command.
 */
class CacheFaultsIT {
    static final String APP = "#!/usr/bin/python3\nimport sys\nimport helper\n"
            + "print('Content-Type: text/plain')\nprint()\n"
            + "print('answer', helper.answer(), sys.pycache_prefix is not None, sys.dont_write_bytecode)\n";
    static final String HELPER = "def answer():\n    return 42\n" + "X = 1\n".repeat(200);
    /** For {@code sh -c}: mounts $0 (the cache) read-only in a mount namespace of its own, then runs the rest. */
    static final String READ_ONLY_MOUNT = "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" "
            + "&& exec \"$@\"";

    Path base;
    Path scripts;
    Path jar;
    final List<KilnJar> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        base = Files.createTempDirectory("kiln-faults-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        scripts = Files.createDirectories(base.resolve("cgi-bin"));
        write(scripts.resolve("app.py"), APP);
        write(scripts.resolve("helper.py"), HELPER);
        jar = base.resolve("kiln.jar"); // a copy user nobody may read
        Files.copy(KilnJar.path(), jar, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (KilnJar k : started) {
            k.close();
        }
        Commands.of("rm", "-rf", base.toString()).ok();
    }

    static void write(Path p, String s) throws IOException {
        Files.writeString(p, s);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Starts the jar on the scripts folder through {@code prefix} (setpriv, unshare), once it serves. */
    KilnJar start(List<String> prefix, String... options) throws Exception {
        KilnJar kiln = KilnJar.builder().jar(jar).in(base).through(prefix).args("--scripts", scripts.toString())
                .args(options).start();
        started.add(kiln);
        return kiln;
    }

    /** {@code java -jar kiln.jar COMMAND --scripts S --cache C --python P}: precompile or prune. */
    Commands jarCommand(String command, Path cache, String... options) {
        List<String> args = new ArrayList<>(List.of("-jar", jar.toString(), command, "--scripts", scripts.toString(),
                "--cache", cache.toString(), "--python", "/usr/bin/python3"));
        args.addAll(List.of(options));
        return Commands.java(args.toArray(String[]::new));
    }

    static String cacheMode(KilnJar kiln) throws Exception {
        return kiln.status().path("cache").path("mode").asText();
    }

    /** Where the cache keeps the scripts folder's bytecode. */
    Path mirror(Path cache) {
        return cache.resolve("py").resolve(scripts.toString().substring(1));
    }

    @Test
    void unwritableCacheIsLoggedOnceServedCorrectlyAndRecoversWithoutRestart() throws Exception {
        Path cache = Files.createDirectories(base.resolve("cache"));
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwxr-xr-x")); // root's, not nobody's
        KilnJar kiln = start(Commands.AS_NOBODY, "--cache", cache.toString());
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = kiln.get("/cgi-bin/app.py");
            assertThat(r.statusCode()).isEqualTo(200);
            // uncached but correct: no prefix (it would make CPython ignore the stdlib's own bytecode), no writes
            assertThat(r.body().strip()).isEqualTo("answer 42 False True");
        }
        List<String> warnings = kiln.matching("WARN", cache.toString());
        assertThat(warnings).as(kiln.logText()).hasSize(1);
        assertThat(warnings.get(0)).contains("EACCES").contains("runs as nobody (uid 65534)")
                .contains("owned by root with mode drwxr-xr-x").contains("SELinux")
                .contains("fix: chown -R nobody " + cache);
        JsonNode status = kiln.status().path("cache");
        assertThat(status.path("mode").asText()).isEqualTo("off");
        assertThat(status.path("healthy").booleanValue()).isFalse();
        assertThat(status.toString()).contains("EACCES");
        Bytecode.assertNoneUnder(scripts);

        // the operator runs the fix the log gave; Kiln notices within seconds, no restart
        Commands.of("chown", "-R", "nobody:nogroup", cache.toString()).ok();
        Commands.of("chmod", "700", cache.toString()).ok();
        Poll.withinMillis(10_000).every(Duration.ofMillis(300)).until("cache writable again", () -> {
            kiln.get("/cgi-bin/app.py");
            return cacheMode(kiln).equals("rw");
        });
        assertThat(kiln.await(3000, "INFO", "caching resumed")).as(kiln.logText()).hasSize(1);
        assertThat(kiln.get("/cgi-bin/app.py").body().strip()).isEqualTo("answer 42 True False");
        HttpResponse<String> again = kiln.get("/cgi-bin/app.py");
        assertThat(again.body().strip()).isEqualTo("answer 42 True False");
        kiln.awaitCounters("app.py", c -> c.lastRequestCompiled() == 0 && c.cached() >= 2);
        Path mirror = mirror(cache);
        assertThat(Bytecode.pycs(mirror)).hasSize(2);

        // a folder inside the cache breaks: one WARN for it, responses stay right, and it heals too
        Commands.of("rm", "-rf", mirror.toString()).ok();
        Files.createDirectories(mirror);
        Files.setPosixFilePermissions(mirror, PosixFilePermissions.fromString("rwxr-xr-x")); // root's again
        for (int i = 0; i < 3; i++) {
            assertThat(kiln.get("/cgi-bin/app.py").body().strip()).isEqualTo("answer 42 True False");
        }
        List<String> inner = kiln.await(3000, "WARN", mirror.toString(), "EACCES");
        assertThat(inner).as(kiln.logText()).hasSize(1);
        assertThat(inner.get(0)).contains("cache write ").contains("fix: chown -R nobody " + mirror);
        Commands.of("chown", "nobody:nogroup", mirror.toString()).ok();
        Poll.withinMillis(10_000).every(Duration.ofMillis(300)).until(mirror + " usable again", () -> {
            kiln.get("/cgi-bin/app.py");
            return !kiln.matching(mirror.toString(), "usable again").isEmpty();
        });
        assertThat(kiln.matching("INFO", mirror.toString(), "usable again")).as(kiln.logText()).hasSize(1);
        assertThat(Bytecode.pycs(mirror)).hasSize(2);
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
        String out = jarCommand("precompile", cache).ok();
        assertThat(out).contains("precompiled").contains("0 with errors").doesNotContain("\r[");
        // app, helper, other, usespkg, pkg/__init__, pkg/inner
        assertThat(Bytecode.pycs(mirror(cache))).as(out).hasSize(6);
        // the image mounts the cache read-only; Kiln must use it as is
        KilnJar kiln = start(List.of("unshare", "-m", "sh", "-c", READ_ONLY_MOUNT, cache.toString()),
                "--cache", cache.toString());
        for (String s : List.of("app.py", "other.py", "usespkg.py")) {
            assertThat(kiln.get("/cgi-bin/" + s).statusCode()).isEqualTo(200);
        }
        assertThat(kiln.get("/cgi-bin/app.py").body().strip()).isEqualTo("answer 42 True True");
        assertThat(cacheMode(kiln)).isEqualTo("ro");
        // a read-only cache has a fork-server of its own (one that writes no bytecode), not classic mode
        JsonNode server = Poll.within(Duration.ofSeconds(5)).latest(() -> kiln.status().path("forkServers").get(0),
                s -> s.path("childrenServed").asLong() == 4);
        assertThat(server.path("interpreter").asText()).as(kiln.logText()).endsWith("(read-only cache)");
        assertThat(server.path("childrenServed").asLong()).as(server.toString()).isEqualTo(4);
        // two requests for app.py, each reading app's and helper's pyc; nothing compiled
        assertThat(kiln.awaitCounters("app.py", c -> c.requests() == 2).compiled()).isZero();
        assertThat(kiln.counters("app.py").cached()).isEqualTo(4);
        assertThat(kiln.awaitCounters("usespkg.py", c -> c.requests() == 1).compiled()).isZero();
        write(scripts.resolve("late.py"), "#!/usr/bin/python3\nprint('Content-Type: text/plain\\n')\nprint('late')\n");
        assertThat(kiln.get("/cgi-bin/late.py").body().strip()).isEqualTo("late");
        assertThat(kiln.matching("WARN")).as(kiln.logText()).isEmpty();
        assertThat(kiln.matching("INFO", "read-only filesystem", "using its bytecode as is")).hasSize(1);
    }

    @Test
    void precompileListsSyntaxErrorsAndExitsNonZero() throws Exception {
        write(scripts.resolve("broken.py"), "#!/usr/bin/python3\nprint('fine')\ndef oops(:\n    pass\n");
        Files.createDirectories(scripts.resolve("lib"));
        write(scripts.resolve("lib/__init__.py"), "");
        write(scripts.resolve("lib/badmod.py"), "x = = 1\n");
        write(scripts.resolve("usesbad.py"), "#!/usr/bin/python3\nimport lib.badmod\n");
        Commands.Result r = jarCommand("precompile", base.resolve("c")).mergeStderr().run();
        String out = r.output();
        assertThat(r.exit()).as(out).isEqualTo(1);
        assertThat(out).containsPattern(Pattern.quote(scripts.resolve("broken.py").toString()) + ":3: .*")
                .containsPattern(Pattern.quote(scripts.resolve("lib/badmod.py").toString()) + ":1: .*")
                .contains("2 with errors");
    }

    @Test
    void precompileShowsAProgressBarOnATerminal() throws Exception {
        // script(1) gives the command a pseudo-terminal, as an operator's shell would
        String cmd = "java -jar " + jar + " precompile --scripts " + scripts + " --cache " + base.resolve("tty-cache")
                + " --python /usr/bin/python3";
        String out = Commands.of("script", "-qec", cmd, "/dev/null").ok();
        assertThat(out).contains("\r[").contains("] 2/2").contains("precompiled 2 scripts");
    }

    @Test
    void pruneOnDemandRemovesWhatNoLongerHasASource() throws Exception {
        Path cache = base.resolve("prune-cache");
        jarCommand("precompile", cache).ok();
        Path mirror = mirror(cache);
        assertThat(Bytecode.pycs(mirror)).hasSize(2);
        Files.delete(scripts.resolve("helper.py"));
        long size;
        try (Stream<Path> w = Files.list(mirror)) {
            size = w.filter(p -> p.getFileName().toString().startsWith("helper.")).mapToLong(p -> p.toFile().length()).sum();
        }
        String out = jarCommand("prune", cache).ok();
        assertThat(out).contains("pruned 1 files (" + size + " bytes)");
        assertThat(Bytecode.pycs(mirror)).hasSize(1);
    }

    @Test
    void pruneKeepsBytecodeWhoseSourceItCannotRead() throws Exception {
        Path cache = base.resolve("nobody-cache");
        jarCommand("precompile", cache).ok();
        Path secret = Files.createDirectories(base.resolve("private"));
        write(secret.resolve("secret.py"), "print()\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwx------")); // root's only
        String pyc = Bytecode.pycs(mirror(cache)).get(0).getFileName().toString();
        Path secretPyc = Files.createDirectories(cache.resolve("py").resolve(secret.toString().substring(1)))
                .resolve("secret." + pyc.replaceAll(".*\\.(cpython-\\d+)\\.pyc$", "$1") + ".pyc");
        Files.write(secretPyc, new byte[64]);
        Commands.of("chown", "-R", "nobody:nogroup", cache.toString()).ok();
        List<String> prune = new ArrayList<>(Commands.AS_NOBODY);
        prune.addAll(List.of("java", "-jar", jar.toString(), "prune", "--scripts", scripts.toString(), "--cache",
                cache.toString(), "--python", "/usr/bin/python3"));
        assertThat(Commands.of(prune).in(base).ok()).contains("pruned 0 files");
        assertThat(secretPyc).as("a source nobody cannot see is not proven gone").exists();
    }

    @Test
    void aReadOnlyCacheWhoseFilesKilnCannotReadIsReportedOnce() throws Exception {
        // built as root for another script group (files 0640 root:daemon), mounted read-only, served as nobody:
        // without a word this would compile on every request; Kiln says so once, with the fix
        Path cache = base.resolve("root-built-cache");
        jarCommand("precompile", cache, "--script-group", "daemon").ok();
        Commands.of("sh", "-c", "find " + cache + " -type d -exec chmod 755 {} +").ok();
        List<String> prefix = new ArrayList<>(List.of("unshare", "-m", "sh", "-c", READ_ONLY_MOUNT, cache.toString()));
        prefix.addAll(Commands.AS_NOBODY);
        KilnJar kiln = start(prefix, "--cache", cache.toString());
        for (int i = 0; i < 4; i++) {
            assertThat(kiln.get("/cgi-bin/app.py").body().strip()).isEqualTo("answer 42 True True");
        }
        List<String> warnings = kiln.await(3000, "WARN", "EACCES");
        assertThat(warnings).as(kiln.logText()).hasSize(1);
        assertThat(warnings.get(0)).contains("cache read " + mirror(cache)).contains("runs as nobody")
                .contains("owned by root").contains("run precompile as nobody");
    }
}
