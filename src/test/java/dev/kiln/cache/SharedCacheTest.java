package dev.kiln.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.StatusJson;

/** The shared compile cache seen through real requests: what is compiled, when, where, and how often. */
class SharedCacheTest {
    @TempDir
    Path temp;

    static final String MODULE_COUNT_MARK = "# module";

    /** An entry script importing {@code n} local modules (a package and plain modules), ~lines each. */
    static void writeApp(KilnTestServer kiln, String name, int modules, String marker) throws Exception {
        writeApp(kiln.scripts(), name, modules, marker);
    }

    static void writeApp(Path scripts, String name, int modules, String marker) throws Exception {
        StringBuilder entry = new StringBuilder("#!/usr/bin/python3\nimport sys\n");
        for (int i = 0; i < modules; i++) {
            String mod = "shared_mod" + i;
            StringBuilder src = new StringBuilder(MODULE_COUNT_MARK + " " + i + "\n");
            for (int f = 0; f < 40; f++) {
                src.append("def f").append(f).append("(x):\n    return x * ").append(f).append(" + ").append(i)
                        .append("\n\n");
            }
            src.append("VALUE = ").append(i).append("\n");
            if (!Files.exists(scripts.resolve("lib/" + mod + ".py"))) {
                KilnTestServer.writeScript(scripts, "lib/" + mod + ".py", src.toString());
            }
            entry.append("from lib import ").append(mod).append("\n");
        }
        KilnTestServer.writeScript(scripts, "lib/__init__.py", "");
        entry.append("total = sum(m.VALUE for n, m in sorted(sys.modules.items()) if n.startswith('lib.shared_mod'))\n");
        entry.append("print('Content-Type: text/plain')\nprint()\nprint('").append(marker).append("', total)\n");
        KilnTestServer.writeScript(scripts, name, entry.toString());
    }

    static ScriptStats.Snapshot awaitStats(KilnTestServer kiln, String script,
                                           Predicate<ScriptStats.Snapshot> done) throws InterruptedException {
        long end = System.currentTimeMillis() + 5000;
        ScriptStats.Snapshot s = kiln.kiln().statistics().stats(script).snapshot();
        while (!done.test(s) && System.currentTimeMillis() < end) {
            Thread.sleep(10);
            s = kiln.kiln().statistics().stats(script).snapshot();
        }
        return s;
    }

    static Map<Path, FileTime> pycs(Path dir) throws Exception {
        Map<Path, FileTime> out = new HashMap<>();
        if (!Files.exists(dir)) {
            return out;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(p -> p.toString().endsWith(".pyc")).toList()) {
                out.put(p, Files.getLastModifiedTime(p));
            }
        }
        return out;
    }

    static List<Path> pycacheFolders(Path dir) throws Exception {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> p.getFileName().toString().equals("__pycache__") || p.toString().endsWith(".pyc"))
                    .toList();
        }
    }

    @Test
    void firstRequestPaysSecondCompilesNothingAndRewritesNothing() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).hostEnv("PYTHONDONTWRITEBYTECODE", "1")
                .option("pass-env", "*").start()) {
            writeApp(kiln, "app.py", 12, "sum");
            HttpResponse<String> first = kiln.get("/cgi-bin/app.py");
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.body().strip()).isEqualTo("sum 66");
            ScriptStats.Snapshot s1 = awaitStats(kiln, "app.py", s -> s.requests() == 1 && s.lastRequestCompiled() >= 0);
            // entry script + package + 12 modules, all compiled once, into the cache
            assertThat(s1.compiled()).isEqualTo(14);
            Map<Path, FileTime> before = pycs(kiln.kiln().cache().prefix());
            Path scriptsReal = kiln.scripts().toRealPath();
            String entryPyc = scriptsReal + "/app.cpython-" + tagDigits() + ".pyc";
            assertThat(before.keySet()).anySatisfy(p -> assertThat(p.toString()).endsWith(entryPyc));
            assertThat(before.keySet().stream().filter(p -> p.toString().contains(scriptsReal.toString()))).hasSize(14);
            Map<Path, Object> inodes = inodes(before.keySet());

            HttpResponse<String> second = kiln.get("/cgi-bin/app.py");
            assertThat(second.body().strip()).isEqualTo("sum 66");
            ScriptStats.Snapshot s2 = awaitStats(kiln, "app.py", s -> s.requests() == 2 && s.cached() >= 14);
            assertThat(s2.compiled()).as("nothing compiled on the second request").isEqualTo(14);
            assertThat(s2.lastRequestCompiled()).isZero();
            assertThat(s2.cached() - s1.cached()).isEqualTo(14);
            assertThat(pycs(kiln.kiln().cache().prefix())).as("no cache file rewritten").isEqualTo(before);
            assertThat(inodes(before.keySet())).isEqualTo(inodes);
            assertThat(pycacheFolders(kiln.scripts())).as("scripts' folders are never written to").isEmpty();
        }
    }

    private static String tagDigits() throws Exception {
        Process p = new ProcessBuilder(KilnTestServer.DEBIAN_PYTHON, "-c",
                "import sys; print(sys.implementation.cache_tag[len('cpython-'):])").start();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
    }

    private static Map<Path, Object> inodes(Iterable<Path> files) throws Exception {
        Map<Path, Object> out = new HashMap<>();
        for (Path f : files) {
            out.put(f, Files.getAttribute(f, "unix:ino"));
        }
        return out;
    }

    @Test
    void twoScriptsShareOneCompiledCopyOfACommonModule() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            writeApp(kiln, "one.py", 5, "one");
            writeApp(kiln, "sub/two.py", 0, "two");
            kiln.script("sub/two.py", "#!/usr/bin/python3\nimport sys, os\n"
                    + "sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))\n"
                    + "from lib import shared_mod3\nprint('Content-Type: text/plain\\n')\nprint('two', shared_mod3.VALUE)\n");
            assertThat(kiln.get("/cgi-bin/one.py").body()).contains("one 10");
            awaitStats(kiln, "one.py", s -> s.requests() == 1 && s.compiled() > 0);
            assertThat(kiln.get("/cgi-bin/sub/two.py").body()).contains("two 3");
            ScriptStats.Snapshot two = awaitStats(kiln, "sub/two.py", s -> s.requests() == 1 && s.compiled() > 0);
            assertThat(two.compiled()).as("only its own entry script").isEqualTo(1);
            assertThat(two.cached()).as("the package and the shared module come from one's compile").isEqualTo(2);
            long copies = pycs(kiln.kiln().cache().prefix()).keySet().stream()
                    .filter(p -> p.getFileName().toString().startsWith("shared_mod3.")).count();
            assertThat(copies).isEqualTo(1);
        }
    }

    @Test
    void sixteenConcurrentFirstRequestsCompileEachModuleOnce() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("max-concurrent", "16").start()) {
            writeApp(kiln, "burst.py", 20, "burst");
            ExecutorService pool = Executors.newFixedThreadPool(16);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<HttpResponse<String>>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                Callable<HttpResponse<String>> c = () -> {
                    go.await();
                    return kiln.get("/cgi-bin/burst.py");
                };
                results.add(pool.submit(c));
            }
            go.countDown();
            for (Future<HttpResponse<String>> f : results) {
                HttpResponse<String> r = f.get();
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body().strip()).isEqualTo("burst 190");
            }
            pool.shutdown();
            ScriptStats.Snapshot s = awaitStats(kiln, "burst.py", x -> x.requests() == 16
                    && x.compiled() + x.cached() >= 16 * 22L);
            // 20 modules + the package + the entry script: each compiled by exactly one of the 16 processes
            assertThat(s.compiled()).isEqualTo(22);
            assertThat(s.cached()).isEqualTo(16 * 22L - 22);
        }
    }

    @Test
    void editsToTheEntryScriptOrAnImportedModuleAreSeenOnTheNextRequest() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            writeApp(kiln, "fresh.py", 3, "v1");
            assertThat(kiln.get("/cgi-bin/fresh.py").body().strip()).isEqualTo("v1 3");
            Path script = kiln.scripts().resolve("fresh.py");
            Files.writeString(script, Files.readString(script).replace("'v1'", "'version-two'"));
            assertThat(kiln.get("/cgi-bin/fresh.py").body().strip()).isEqualTo("version-two 3");
            Path mod = kiln.scripts().resolve("lib/shared_mod2.py");
            Files.writeString(mod, Files.readString(mod).replace("VALUE = 2", "VALUE = 200"));
            assertThat(kiln.get("/cgi-bin/fresh.py").body().strip()).isEqualTo("version-two 201");
        }
    }

    @Test
    void checkedHashPycsCatchEditsThatKeepSizeAndMtime() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("pyc-validation", "checked-hash").start()) {
            kiln.script("same.py", "#!/usr/bin/python3\nimport valmod\nprint('Content-Type: text/plain\\n')\n"
                    + "print(valmod.V)\n");
            Path mod = KilnTestServer.writeScript(kiln.scripts(), "valmod.py", "V = 'aaaa'\n");
            FileTime mtime = FileTime.fromMillis(1_600_000_000_000L);
            Files.setLastModifiedTime(mod, mtime);
            assertThat(kiln.get("/cgi-bin/same.py").body().strip()).isEqualTo("aaaa");
            Path pyc = pycs(kiln.kiln().cache().prefix()).keySet().stream()
                    .filter(p -> p.getFileName().toString().startsWith("valmod.")).findFirst().orElseThrow();
            byte[] header = Files.readAllBytes(pyc);
            assertThat(header[4] & 0b11).as("PEP 552 flags: hash-based, checked").isEqualTo(0b11);
            // same size, same mtime, different content: only a hash notices
            Files.writeString(mod, "V = 'bbbb'\n");
            Files.setLastModifiedTime(mod, mtime);
            assertThat(kiln.get("/cgi-bin/same.py").body().strip()).isEqualTo("bbbb");
        }
    }

    @Test
    void shebangThatDisablesCachingIsWarnedOnceAndStillRuns() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start();
             LogCapture logs = LogCapture.capture()) {
            kiln.script("nocache.py", "#!/usr/bin/python3 -B\nprint('Content-Type: text/plain\\n')\nprint('ok')\n");
            for (int i = 0; i < 3; i++) {
                assertThat(kiln.get("/cgi-bin/nocache.py").body().strip()).isEqualTo("ok");
            }
            assertThat(logs.matching("WARN", "nocache.py", "-B", "fix:")).hasSize(1);
            assertThat(pycs(kiln.kiln().cache().prefix()).keySet())
                    .noneMatch(p -> p.getFileName().toString().startsWith("nocache."));
        }
    }

    @Test
    void inheritedDontWriteBytecodeIsNeutralised() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).hostEnv("PYTHONDONTWRITEBYTECODE", "1")
                .option("pass-env", "PATH,PYTHONDONTWRITEBYTECODE").start()) {
            kiln.script("env.py", "#!/usr/bin/python3\nimport os, sys\nprint('Content-Type: text/plain\\n')\n"
                    + "print(os.environ.get('PYTHONDONTWRITEBYTECODE'), sys.dont_write_bytecode, "
                    + "sys.pycache_prefix == os.environ.get('PYTHONPYCACHEPREFIX'))\n");
            assertThat(kiln.get("/cgi-bin/env.py").body().strip()).isEqualTo("None False True");
            assertThat(pycs(kiln.kiln().cache().prefix()).keySet())
                    .anyMatch(p -> p.getFileName().toString().startsWith("env."));
        }
    }

    @Test
    void cacheFolderOthersCanWriteIsRefusedWithOneError() throws Exception {
        Path cache = Files.createDirectories(temp.resolve("shared-cache"));
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwxrwxrwx"));
        try (LogCapture logs = LogCapture.capture();
             KilnTestServer kiln = KilnTestServer.builder(temp).option("cache", cache.toString()).start()) {
            kiln.script("hi.py", "#!/usr/bin/python3\nprint('Content-Type: text/plain\\n')\nprint('hi')\n");
            for (int i = 0; i < 3; i++) {
                assertThat(kiln.get("/cgi-bin/hi.py").body().strip()).isEqualTo("hi");
            }
            assertThat(logs.matching("ERROR", cache.toString(), "not safe", "writable by other users", "chmod 700"))
                    .hasSize(1);
            assertThat(kiln.kiln().cache().mode()).isEqualTo(CacheMode.OFF);
            assertThat(pycs(cache)).isEmpty();
            // Kiln's own Python files, run for every request, are not kept where others could swap them
            assertThat(cache.resolve("runtime")).doesNotExist();
            assertThat(kiln.kiln().runtime().dir().startsWith(cache)).as("runtime outside the cache").isFalse();
            assertThat(pycacheFolders(kiln.scripts())).isEmpty();
            // fixing it is noticed without a restart
            Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwx------"));
            kiln.kiln().cache().check();
            assertThat(kiln.kiln().cache().mode()).isEqualTo(CacheMode.RW);
            assertThat(logs.matching("INFO", "private again")).hasSize(1);
        }
    }

    @Test
    void startPrunesBytecodeOfGoneSourcesAndUnusedInterpreters() throws Exception {
        Path cache = temp.resolve("cache");
        Path scripts = Files.createDirectories(temp.resolve("cgi-bin"));
        Path mirror = Files.createDirectories(cache.resolve("py").resolve(scripts.toRealPath().toString().substring(1)));
        Files.createDirectories(cache.resolve("py"));
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwx------"));
        KilnTestServer.writeScript(scripts, "kept.py", "print()\n");
        String tag = "cpython-" + tagDigits();
        Files.write(mirror.resolve("kept." + tag + ".pyc"), new byte[100]);
        Files.write(mirror.resolve("gone." + tag + ".pyc"), new byte[200]);
        Files.write(mirror.resolve("kept.cpython-299.pyc"), new byte[300]);
        Files.write(mirror.resolve("kept." + tag + ".opt-1.pyc"), new byte[50]);
        try (LogCapture logs = LogCapture.capture();
             KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            assertThat(mirror.resolve("kept." + tag + ".pyc")).exists();
            assertThat(mirror.resolve("kept." + tag + ".opt-1.pyc")).exists();
            assertThat(mirror.resolve("gone." + tag + ".pyc")).doesNotExist();
            assertThat(mirror.resolve("kept.cpython-299.pyc")).doesNotExist();
            assertThat(logs.matching("INFO", "pruned 2 cached files (500 bytes)", "1 of interpreters not in use",
                    "1 whose source is gone")).hasSize(1);
        }
    }

    @Test
    void precompileOptionWarmsTheCacheSoNotEvenTheFirstRequestCompiles() throws Exception {
        KilnTestServer.Builder b = KilnTestServer.builder(temp).option("precompile", "true");
        writeApp(b.scripts(), "warm.py", 6, "warm");
        try (LogCapture logs = LogCapture.capture(); KilnTestServer kiln = b.start()) {
            assertThat(logs.await(20_000, "INFO", "precompiled", "0 errors")).hasSize(1);
            assertThat(kiln.get("/cgi-bin/warm.py").body().strip()).isEqualTo("warm 15");
            ScriptStats.Snapshot s = awaitStats(kiln, "warm.py", x -> x.requests() == 1 && x.cached() > 0);
            assertThat(s.compiled()).isZero();
            assertThat(s.cached()).isEqualTo(8);
        }
    }

    @Test
    void statusReportsCacheHealthInterpretersAndPerScriptCounters() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            writeApp(kiln, "seen.py", 2, "seen");
            kiln.get("/cgi-bin/seen.py");
            kiln.get("/cgi-bin/seen.py");
            awaitStats(kiln, "seen.py", x -> x.requests() == 2 && x.cached() >= 4);
            HttpResponse<String> r = kiln.get("/kiln/status");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
            String json = r.body();
            assertThat(json).contains("\"folder\": \"" + temp.resolve("cache") + "\"")
                    .contains("\"mode\": \"rw\"").contains("\"writable\": true").contains("\"healthy\": true")
                    .contains("\"lastError\": null")
                    .contains("\"scriptsRunning\": 0, \"scriptsWaiting\": 0, \"maxConcurrent\": ")
                    .containsPattern("\"executable\": \"/usr/bin/python3\", \"version\": \"3\\.\\d+\\.\\d+\", "
                            + "\"cacheTag\": \"cpython-3\\d+\"")
                    .contains("\"scriptsStats\": {");
            assertThat(StatusJson.section(json, "scriptsStats"))
                    .containsPattern("\"seen\\.py\": \\{\"requests\": 2, \"modulesCompiled\": 4, \"cacheHits\": 4, "
                            + "\"shippedHits\": \\d+, \"compileMillis\": \\d+, \"lastRequestCompiled\": 0, "
                            + "\"lastCompile\": \"20\\d\\d-");
        }
    }

    @Test
    void statusKeepsScriptsStatsUnderItsDeprecatedNameForOneRelease() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            writeApp(kiln, "a.py", 1, "a");
            writeApp(kiln, "b.py", 1, "b");
            kiln.get("/cgi-bin/a.py");
            kiln.get("/cgi-bin/b.py");
            awaitStats(kiln, "b.py", x -> x.requests() == 1);
            String json = kiln.get("/kiln/status").body();
            String current = StatusJson.section(json, "scriptsStats");
            assertThat(current).contains("\"a.py\": {\"requests\": 1").contains("\"b.py\": {\"requests\": 1");
            assertThat(StatusJson.section(json, "scripts_stats")).isEqualTo(current);
            assertThat(json).endsWith("\"scripts_stats\": " + current + "\n}\n");
        }
    }

    @Test
    void statusCanBeSwitchedOff() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("status", "off").start()) {
            HttpResponse<String> r = kiln.get("/kiln/status");
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.body()).doesNotContain(temp.toString());
            assertThat(kiln.get("/").body()).as("the index links no page that is not there")
                    .contains("</ul>").doesNotContain("/kiln/status");
        }
    }

    @Test
    void isolatedModeShebangsStayCachedWithoutWarnings() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start();
             LogCapture logs = LogCapture.capture()) {
            kiln.script("iso.py", "#!/usr/bin/python3 -I\nimport sys\nprint('Content-Type: text/plain\\n')\n"
                    + "print(sys.flags.isolated, sys.path[0] == __import__('os').path.dirname(__file__))\n");
            assertThat(kiln.get("/cgi-bin/iso.py").body().strip()).isEqualTo("1 False"); // -I: no script dir on sys.path
            awaitStats(kiln, "iso.py", x -> x.requests() == 1 && x.compiled() == 1);
            assertThat(kiln.get("/cgi-bin/iso.py").body().strip()).isEqualTo("1 False");
            ScriptStats.Snapshot s = awaitStats(kiln, "iso.py", x -> x.requests() == 2 && x.cached() >= 1);
            assertThat(s.lastRequestCompiled()).isZero();
            assertThat(logs.matching("WARN")).isEmpty();
        }
    }

    @Test
    void aFullDiskIsReportedOnceWithItsFixAndScriptsStillAnswer() throws Exception {
        // a real filesystem that runs out of space: a 256 KiB tmpfs (CI runs as root, which mounts)
        Path cache = Files.createDirectories(temp.resolve("small-cache"));
        run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "kiln-test", cache.toString());
        try {
            Path filler = cache.resolve("filler");
            try (var out = Files.newOutputStream(filler)) {
                byte[] block = new byte[4096];
                while (true) {
                    try {
                        out.write(block);
                        out.flush();
                    } catch (IOException full) {
                        break;
                    }
                }
            } catch (IOException closeOnFullDisk) {
                // the last partial block may fail again on close
            }
            try (LogCapture logs = LogCapture.capture();
                 KilnTestServer kiln = KilnTestServer.builder(temp).option("cache", cache.toString()).start()) {
                writeApp(kiln, "full.py", 3, "full");
                for (int i = 0; i < 3; i++) {
                    assertThat(kiln.get("/cgi-bin/full.py").body().strip()).isEqualTo("full 3");
                }
                List<String> warnings = logs.await(3000, "WARN", "ENOSPC");
                assertThat(warnings).as(logs.lines().toString()).hasSize(1);
                assertThat(warnings.get(0)).contains("no space left on device").contains("fix: free space on the "
                        + "filesystem holding");
                // space comes back: the next requests cache again without a restart
                Files.delete(filler);
                long end = System.currentTimeMillis() + 10_000;
                while (kiln.kiln().statistics().stats("full.py").snapshot().lastRequestCompiled() != 0
                        && System.currentTimeMillis() < end) {
                    kiln.get("/cgi-bin/full.py");
                    Thread.sleep(200);
                }
                assertThat(kiln.kiln().statistics().stats("full.py").snapshot().lastRequestCompiled()).isZero();
                assertThat(logs.await(5000, "INFO", "usable again")).isNotEmpty();
            }
        } finally {
            run("umount", "-l", cache.toString());
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", cmd), out).isZero();
    }
}
