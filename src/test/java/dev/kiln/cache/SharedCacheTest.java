package dev.kiln.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.testing.Bytecode;
import dev.kiln.testing.Commands;
import dev.kiln.testing.EachRunMode;
import dev.kiln.testing.Json;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.Poll;
import dev.kiln.testing.ScriptCounters;

/** The shared compile cache seen through real requests: what is compiled, when, where, and how often. */
@EachRunMode
class SharedCacheTest {
    @Parameter
    String runMode;
    @TempDir
    Path temp;

    /** A Kiln of this run mode on the test's temporary folder. */
    KilnTestServer.Builder builder() {
        return KilnTestServer.builder(temp).runMode(runMode);
    }

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

    /** The pycs in Kiln's cache, which lives where /kiln/status says. */
    static List<Path> cachedPycs(KilnTestServer kiln) throws Exception {
        return Bytecode.pycs(Path.of(kiln.status().path("cache").path("prefix").asText()));
    }

    @Test
    void firstRequestPaysSecondCompilesNothingAndRewritesNothing() throws Exception {
        try (KilnTestServer kiln = builder().hostEnv("PYTHONDONTWRITEBYTECODE", "1")
                .option("pass-env", "*").start()) {
            writeApp(kiln, "app.py", 12, "sum");
            HttpResponse<String> first = kiln.get("/cgi-bin/app.py");
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.body().strip()).isEqualTo("sum 66");
            ScriptCounters s1 = kiln.awaitCounters("app.py", s -> s.requests() == 1 && s.lastRequestCompiled() >= 0);
            // entry script + package + 12 modules, all compiled once, into the cache
            assertThat(s1.compiled()).isEqualTo(14);
            Path prefix = Path.of(kiln.status().path("cache").path("prefix").asText());
            Map<Path, String> before = Bytecode.stamps(prefix);
            Path scriptsReal = kiln.scripts().toRealPath();
            String entryPyc = scriptsReal + "/app.cpython-" + tagDigits() + ".pyc";
            assertThat(before.keySet()).anySatisfy(p -> assertThat(p.toString()).endsWith(entryPyc));
            assertThat(before.keySet().stream().filter(p -> p.toString().contains(scriptsReal.toString()))).hasSize(14);

            HttpResponse<String> second = kiln.get("/cgi-bin/app.py");
            assertThat(second.body().strip()).isEqualTo("sum 66");
            ScriptCounters s2 = kiln.awaitCounters("app.py", s -> s.requests() == 2 && s.cached() >= 14);
            assertThat(s2.compiled()).as("nothing compiled on the second request").isEqualTo(14);
            assertThat(s2.lastRequestCompiled()).isZero();
            assertThat(s2.cached() - s1.cached()).isEqualTo(14);
            assertThat(Bytecode.stamps(prefix)).as("no cache file rewritten").isEqualTo(before);
            Bytecode.assertNoneUnder(kiln.scripts()); // scripts' folders are never written to
        }
    }

    private static String tagDigits() throws Exception {
        return Commands.of(KilnTestServer.DEBIAN_PYTHON, "-c",
                "import sys; print(sys.implementation.cache_tag[len('cpython-'):])").ok().strip();
    }

    @Test
    void twoScriptsShareOneCompiledCopyOfACommonModule() throws Exception {
        try (KilnTestServer kiln = builder().start()) {
            writeApp(kiln, "one.py", 5, "one");
            writeApp(kiln, "sub/two.py", 0, "two");
            kiln.script("sub/two.py", "#!/usr/bin/python3\nimport sys, os\n"
                    + "sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))\n"
                    + "from lib import shared_mod3\nprint('Content-Type: text/plain\\n')\nprint('two', shared_mod3.VALUE)\n");
            assertThat(kiln.get("/cgi-bin/one.py").body()).contains("one 10");
            kiln.awaitCounters("one.py", s -> s.requests() == 1 && s.compiled() > 0);
            assertThat(kiln.get("/cgi-bin/sub/two.py").body()).contains("two 3");
            ScriptCounters two = kiln.awaitCounters("sub/two.py", s -> s.requests() == 1 && s.compiled() > 0);
            assertThat(two.compiled()).as("only its own entry script").isEqualTo(1);
            assertThat(two.cached()).as("its entry script, compiled by Kiln before it ran, then the package and the "
                    + "shared module from one's compile").isEqualTo(3);
            long copies = cachedPycs(kiln).stream()
                    .filter(p -> p.getFileName().toString().startsWith("shared_mod3.")).count();
            assertThat(copies).isEqualTo(1);
        }
    }

    @Test
    void sixteenConcurrentFirstRequestsCompileEachModuleOnce() throws Exception {
        try (KilnTestServer kiln = builder().option("max-concurrent", "16").start()) {
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
            ScriptCounters s = kiln.awaitCounters("burst.py", x -> x.requests() == 16
                    && x.cached() >= 16 * 22L);
            // 20 modules + the package + the entry script: each compiled once, by Kiln before the first run (the
            // others waited for it); every one of the 16 processes then loads all 22 from the cache
            assertThat(s.compiled()).isEqualTo(22);
            assertThat(s.cached()).isEqualTo(16 * 22L);
        }
    }

    @Test
    void editsToTheEntryScriptOrAnImportedModuleAreSeenOnTheNextRequest() throws Exception {
        try (KilnTestServer kiln = builder().start()) {
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
        try (KilnTestServer kiln = builder().option("pyc-validation", "checked-hash").start()) {
            kiln.script("same.py", "#!/usr/bin/python3\nimport valmod\nprint('Content-Type: text/plain\\n')\n"
                    + "print(valmod.V)\n");
            Path mod = KilnTestServer.writeScript(kiln.scripts(), "valmod.py", "V = 'aaaa'\n");
            FileTime mtime = FileTime.fromMillis(1_600_000_000_000L);
            Files.setLastModifiedTime(mod, mtime);
            assertThat(kiln.get("/cgi-bin/same.py").body().strip()).isEqualTo("aaaa");
            Path pyc = cachedPycs(kiln).stream()
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
    void sameSizeEditsWithinOneSecondAreServedFreshInTimestampMode() throws Exception {
        try (KilnTestServer kiln = builder().start()) {
            kiln.script("quick.py", "#!/usr/bin/python3\nimport quickmod\nprint('Content-Type: text/plain\\n')\n"
                    + "print(quickmod.V)\n");
            Path mod = KilnTestServer.writeScript(kiln.scripts(), "quickmod.py", "V = 'aaaa'\n");
            FileTime mtime = Files.getLastModifiedTime(mod);
            assertThat(kiln.get("/cgi-bin/quick.py").body().strip()).isEqualTo("aaaa");
            Path pyc = cachedPycs(kiln).stream()
                    .filter(p -> p.getFileName().toString().startsWith("quickmod.")).findFirst().orElseThrow();
            assertThat(Files.readAllBytes(pyc)[4] & 0b11).as("a just-modified source: checked hash").isEqualTo(0b11);
            // the same size within the same second: a timestamp pyc would stay valid for the old code
            Files.writeString(mod, "V = 'bbbb'\n");
            Files.setLastModifiedTime(mod, mtime);
            assertThat(kiln.get("/cgi-bin/quick.py").body().strip()).isEqualTo("bbbb");
        }
    }

    @Test
    void shebangThatDisablesCachingIsWarnedOnceAndStillRuns() throws Exception {
        try (KilnTestServer kiln = builder().start();
             LogCapture logs = LogCapture.capture()) {
            kiln.script("nocache.py", "#!/usr/bin/python3 -B\nprint('Content-Type: text/plain\\n')\nprint('ok')\n");
            for (int i = 0; i < 3; i++) {
                assertThat(kiln.get("/cgi-bin/nocache.py").body().strip()).isEqualTo("ok");
            }
            assertThat(logs.matching("WARN", "nocache.py", "-B", "fix:")).hasSize(1);
            assertThat(cachedPycs(kiln))
                    .noneMatch(p -> p.getFileName().toString().startsWith("nocache."));
        }
    }

    @Test
    void inheritedDontWriteBytecodeIsNeutralised() throws Exception {
        try (KilnTestServer kiln = builder().hostEnv("PYTHONDONTWRITEBYTECODE", "1")
                .option("pass-env", "PATH,PYTHONDONTWRITEBYTECODE").start()) {
            kiln.script("env.py", "#!/usr/bin/python3\nimport os, sys\nprint('Content-Type: text/plain\\n')\n"
                    + "print(os.environ.get('PYTHONDONTWRITEBYTECODE'), sys.dont_write_bytecode, "
                    + "sys.pycache_prefix == os.environ.get('PYTHONPYCACHEPREFIX'))\n");
            assertThat(kiln.get("/cgi-bin/env.py").body().strip()).isEqualTo("None False True");
            assertThat(cachedPycs(kiln))
                    .anyMatch(p -> p.getFileName().toString().startsWith("env."));
        }
    }

    @Test
    void cacheFolderOthersCanWriteIsRefusedWithOneError() throws Exception {
        Path cache = Files.createDirectories(temp.resolve("shared-cache"));
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwxrwxrwx"));
        try (LogCapture logs = LogCapture.capture();
             KilnTestServer kiln = builder().option("cache", cache.toString()).start()) {
            kiln.script("hi.py", "#!/usr/bin/python3\nprint('Content-Type: text/plain\\n')\nprint('hi')\n");
            for (int i = 0; i < 3; i++) {
                assertThat(kiln.get("/cgi-bin/hi.py").body().strip()).isEqualTo("hi");
            }
            assertThat(logs.matching("ERROR", cache.toString(), "not safe", "writable by other users", "chmod -R go-w"))
                    .hasSize(1);
            assertThat(kiln.status().path("cache").path("mode").asText()).isEqualTo("off");
            assertThat(Bytecode.pycs(cache)).isEmpty();
            // Kiln's own Python files, run for every request, are not kept where others could swap them
            assertThat(cache.resolve("runtime")).doesNotExist();
            assertThat(kiln.kiln().runtime().dir().startsWith(cache)).as("runtime outside the cache").isFalse();
            Bytecode.assertNoneUnder(kiln.scripts());
            // fixing it is noticed without a restart
            Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwx------"));
            kiln.kiln().cache().check();
            assertThat(kiln.status().path("cache").path("mode").asText()).isEqualTo("rw");
            assertThat(logs.matching("INFO", "private again")).hasSize(1);
        }
    }

    @Test
    void startPrunesOnlyWhatItProvedOrphaned() throws Exception {
        Path cache = temp.resolve("cache");
        Path scripts = Files.createDirectories(temp.resolve("cgi-bin"));
        Path mirror = Files.createDirectories(cache.resolve("py").resolve(scripts.toRealPath().toString().substring(1)));
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwx------"));
        KilnTestServer.writeScript(scripts, "kept.py", "print()\n");
        KilnTestServer.writeScript(scripts, "hgweb.cgi", "#!/usr/bin/python3\nprint()\n");
        String tag = "cpython-" + tagDigits();
        Files.write(mirror.resolve("kept." + tag + ".pyc"), new byte[100]);
        Files.write(mirror.resolve("gone." + tag + ".pyc"), new byte[200]);
        Files.write(mirror.resolve("kept." + tag + ".opt-1.pyc"), new byte[50]);
        // an entry script without .py has a pyc of its own name: kept while the script is there
        Files.write(mirror.resolve("hgweb.cgi.__main__." + tag + ".pyc"), new byte[10]);
        Files.write(mirror.resolve("gone.cgi.__main__." + tag + ".pyc"), new byte[20]);
        // a tag recorded for a binary that is gone (an upgraded Python): pruned, with its record
        Path records = Files.createDirectories(cache.resolve("interpreters"));
        Files.writeString(records.resolve("cpython-299"), temp.resolve("no-such-python") + "\n");
        Files.write(mirror.resolve("kept.cpython-299.pyc"), new byte[300]);
        // another instance's tag: recorded for a binary that exists, or not recorded at all: kept
        Files.writeString(records.resolve("cpython-298"), "/bin/sh\n");
        Files.write(mirror.resolve("kept.cpython-298.pyc"), new byte[1]);
        Files.write(mirror.resolve("kept.cpython-297.pyc"), new byte[1]);
        try (LogCapture logs = LogCapture.capture();
             KilnTestServer kiln = builder().start()) {
            assertThat(mirror.resolve("kept." + tag + ".pyc")).exists();
            assertThat(mirror.resolve("kept." + tag + ".opt-1.pyc")).exists();
            assertThat(mirror.resolve("hgweb.cgi.__main__." + tag + ".pyc")).exists();
            assertThat(mirror.resolve("gone." + tag + ".pyc")).doesNotExist();
            assertThat(mirror.resolve("gone.cgi.__main__." + tag + ".pyc")).doesNotExist();
            assertThat(mirror.resolve("kept.cpython-299.pyc")).doesNotExist();
            assertThat(records.resolve("cpython-299")).doesNotExist();
            assertThat(mirror.resolve("kept.cpython-298.pyc")).exists();
            assertThat(mirror.resolve("kept.cpython-297.pyc")).exists();
            assertThat(records.resolve(tag)).content().contains("/usr/bin/python3");
            assertThat(logs.matching("INFO", "pruned 3 cached files (520 bytes)", "1 of interpreters that are gone",
                    "2 whose source is gone")).hasSize(1);
        }
    }

    @Test
    void precompileOptionWarmsTheCacheSoNotEvenTheFirstRequestCompiles() throws Exception {
        KilnTestServer.Builder b = builder().option("precompile", "true");
        writeApp(b.scripts(), "warm.py", 6, "warm");
        try (LogCapture logs = LogCapture.capture(); KilnTestServer kiln = b.start()) {
            assertThat(logs.await(20_000, "INFO", "precompiled", "0 with errors")).hasSize(1);
            assertThat(kiln.get("/cgi-bin/warm.py").body().strip()).isEqualTo("warm 15");
            ScriptCounters s = kiln.awaitCounters("warm.py", x -> x.requests() == 1 && x.cached() > 0);
            assertThat(s.compiled()).isZero();
            assertThat(s.cached()).isEqualTo(8);
        }
    }

    @Test
    void statusReportsCacheHealthInterpretersAndPerScriptCounters() throws Exception {
        try (KilnTestServer kiln = builder().start()) {
            writeApp(kiln, "seen.py", 2, "seen");
            kiln.get("/cgi-bin/seen.py");
            kiln.get("/cgi-bin/seen.py");
            kiln.awaitCounters("seen.py", x -> x.requests() == 2 && x.cached() >= 4);
            HttpResponse<String> r = kiln.get("/kiln/status");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
            JsonNode status = Json.tree(r.body());
            JsonNode cache = status.path("cache");
            assertThat(cache.path("folder").asText()).isEqualTo(temp.resolve("cache").toString());
            assertThat(cache.path("mode").asText()).isEqualTo("rw");
            assertThat(cache.path("writable").booleanValue()).isTrue();
            assertThat(cache.path("healthy").booleanValue()).isTrue();
            assertThat(cache.get("lastError").isNull()).as("lastError is null: %s", cache).isTrue();
            assertThat(status.path("scriptsRunning").isIntegralNumber()).isTrue();
            assertThat(status.path("scriptsRunning").asLong()).isZero();
            assertThat(status.path("scriptsWaiting").asLong()).isZero();
            assertThat(status.path("maxConcurrent").asLong()).isPositive();
            assertThat(status.path("interpreters")).anySatisfy(i -> {
                assertThat(i.path("executable").asText()).isEqualTo("/usr/bin/python3");
                assertThat(i.path("version").asText()).matches("3\\.\\d+\\.\\d+");
                assertThat(i.path("cacheTag").asText()).matches("cpython-3\\d+");
            });
            assertThat(status.path("scripts_stats")).as("the deprecated name still carries the same counters")
                    .isEqualTo(status.path("scriptsStats"));
            JsonNode seen = status.path("scriptsStats").path("seen.py");
            assertThat(seen.path("requests").asLong()).isEqualTo(2);
            assertThat(seen.path("modulesCompiled").asLong()).isEqualTo(4);
            assertThat(seen.path("cacheHits").asLong()).as("Kiln compiled before the first run: both load all 4")
                    .isEqualTo(8);
            assertThat(seen.path("shippedHits").isIntegralNumber()).as("shippedHits in %s", seen).isTrue();
            assertThat(seen.path("compileMillis").isIntegralNumber()).as("compileMillis in %s", seen).isTrue();
            assertThat(seen.path("lastRequestCompiled").asLong()).isZero();
            assertThat(seen.path("lastCompile").asText()).matches("20\\d\\d-.*");
        }
    }

    @Test
    void statusCanBeSwitchedOff() throws Exception {
        try (KilnTestServer kiln = builder().option("status", "off").start()) {
            HttpResponse<String> r = kiln.get("/kiln/status");
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.body()).doesNotContain(temp.toString());
        }
    }

    @Test
    void isolatedModeShebangsStayCachedWithoutWarnings() throws Exception {
        try (KilnTestServer kiln = builder().start();
             LogCapture logs = LogCapture.capture()) {
            kiln.script("iso.py", "#!/usr/bin/python3 -I\nimport sys\nprint('Content-Type: text/plain\\n')\n"
                    + "print(sys.flags.isolated, sys.path[0] == __import__('os').path.dirname(__file__))\n");
            assertThat(kiln.get("/cgi-bin/iso.py").body().strip()).isEqualTo("1 False"); // -I: no script dir on sys.path
            kiln.awaitCounters("iso.py", x -> x.requests() == 1 && x.compiled() == 1);
            assertThat(kiln.get("/cgi-bin/iso.py").body().strip()).isEqualTo("1 False");
            ScriptCounters s = kiln.awaitCounters("iso.py", x -> x.requests() == 2 && x.cached() >= 1);
            assertThat(s.lastRequestCompiled()).isZero();
            assertThat(logs.matching("WARN")).isEmpty();
        }
    }

    @Test
    void aFullDiskIsReportedOnceWithItsFixAndScriptsStillAnswer() throws Exception {
        // a real filesystem that runs out of space: a 256 KiB tmpfs (CI runs as root, which mounts)
        Path cache = Files.createDirectories(temp.resolve("small-cache"));
        Commands.of("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "kiln-test", cache.toString()).ok();
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
                 KilnTestServer kiln = builder().option("cache", cache.toString()).start()) {
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
                Poll.withinMillis(10_000).every(Duration.ofMillis(200)).until("full.py served from the cache again",
                        () -> {
                            kiln.get("/cgi-bin/full.py");
                            return kiln.counters("full.py").lastRequestCompiled() == 0;
                        });
                assertThat(logs.await(5000, "INFO", "usable again")).isNotEmpty();
            }
        } finally {
            Commands.of("umount", "-l", cache.toString()).ok();
        }
    }

}
