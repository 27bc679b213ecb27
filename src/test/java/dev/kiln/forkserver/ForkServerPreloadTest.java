package dev.kiln.forkserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.kiln.testing.LogCapture;

/** Application modules preloaded from the scripts folder, their failures, their edits, and retiring a server. */
class ForkServerPreloadTest {
    @RegisterExtension
    final ForkFixture fx = new ForkFixture();

    @Test
    void applicationModulesComeFromTheScriptsFolderAndAFailingOneIsReportedOnce() throws Exception {
        Path app = fx.write("appmod.py", "import json\nLOADED_BY = __import__('os').getpid()\n");
        fx.write("broken.py", "raise RuntimeError('not today')\n");
        Path script = fx.write("sub/uses.py", "import os, appmod\nprint(appmod.LOADED_BY != os.getpid())\n");
        try (LogCapture logs = LogCapture.capture("kiln.forkserver");
             ForkServer server = ForkServer.start(fx.spec(List.of(), fx.baseEnv(), List.of("appmod", "broken")))) {
            // imported once, in the fork-server: even a script of another folder finds it loaded
            assertThat(fx.fork(server, script, fx.baseEnv(), null).stdout()).isEqualTo("True\n");
            awaitLine(logs, "preload of broken failed: RuntimeError: not today");
            assertThat(logs.matching("preload of broken failed")).hasSize(1).first().asString()
                    .startsWith("WARN").contains("fix: correct the module or take it off the preload list");
            assertThat(server.stale()).isFalse();
            Files.setLastModifiedTime(app, FileTime.fromMillis(Files.getLastModifiedTime(app).toMillis() + 2000));
            assertThat(server.stale()).as("a preloaded module was edited").isTrue();
        }
    }

    /**
     * What a preloaded module printed at import is flushed by the fork-server (to its own stderr file), not left
     * in the buffer every child inherits: a module that keeps the stdout it found at import (Mercurial's procutil
     * does) writes only what the script gives it.
     */
    @Test
    void whatAPreloadedModulePrintedStaysOutOfTheResponses() throws Exception {
        fx.write("noisy.py", "import sys\nprint('imported noisily')\nOUT = sys.stdout\n");
        Path script = fx.write("talks.py", "import noisy\nnoisy.OUT.write('via the module\\n')\n"
                + "noisy.OUT.flush()\nprint('direct')\n");
        try (ForkServer server = ForkServer.start(fx.spec(List.of(), fx.baseEnv(), List.of("noisy")))) {
            for (int i = 0; i < 2; i++) {
                assertThat(fx.fork(server, script, fx.baseEnv(), null).stdout()).isEqualTo("via the module\ndirect\n");
            }
        }
    }

    @Test
    void aRetiredServerFinishesWhatRunsThenCloses() throws Exception {
        Path slow = fx.write("slow.py", "import time\ntime.sleep(0.5)\nprint('finished')\n");
        ForkServer server = fx.start();
        ForkedChild running = server.fork(fx.request(slow, fx.baseEnv()));
        running.stdin().close();
        server.retire();
        assertThat(server.isAlive()).isTrue();
        assertThatThrownBy(() -> server.fork(fx.request(slow, fx.baseEnv()))).hasMessageContaining("retired");
        assertThat(ForkFixture.readAll(running.stdout())).isEqualTo("finished\n");
        assertThat(running.waitFor()).isZero();
        for (int i = 0; i < 100 && server.isAlive(); i++) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        assertThat(server.isAlive()).isFalse();
        assertThat(ForkServerTest.awaitGone(server.status().pid())).isTrue();
    }

    @Test
    void flagsAndVariablesAForkedChildCannotReproduceRunClassic() {
        for (List<String> flags : List.of(List.of("-v"), List.of("-X", "importtime"), List.of("-Ximporttime"),
                List.of("-uX", "tracemalloc"), List.of("-i"), List.of("-c"), List.of("script.py"))) {
            assertThat(ForkServerSpec.unsupported(flags, Map.of())).as(flags.toString()).isPresent();
        }
        for (List<String> flags : List.<List<String>>of(List.of(), List.of("-u"), List.of("-OO", "-B"),
                List.of("-X", "utf8"), List.of("-W", "ignore", "-E"), List.of("-Wi"), List.of("-I", "-s", "-S"))) {
            assertThat(ForkServerSpec.unsupported(flags, Map.of())).as(flags.toString()).isEmpty();
        }
        assertThat(ForkServerSpec.unsupported(List.of(), Map.of("PYTHONVERBOSE", "1"))).isPresent();
        assertThat(ForkServerSpec.unsupported(List.of("-E"), Map.of("PYTHONVERBOSE", "1"))).isEmpty();
        assertThat(ForkServerSpec.unsupported(List.of(), Map.of("PYTHONCOERCECLOCALE", "warn"))).isPresent();
        assertThatThrownBy(() -> fx.spec(List.of("-v"), fx.baseEnv(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-v");
    }

    private static void awaitLine(LogCapture logs, String fragment) throws InterruptedException {
        for (int i = 0; i < 250 && logs.matching(fragment).isEmpty(); i++) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }
}
