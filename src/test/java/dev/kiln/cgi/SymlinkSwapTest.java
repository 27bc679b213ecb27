package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.KilnTestServer;

/**
 * Resolve once, use that: while a folder under cgi-bin is swapped again and again with a symlink to a folder
 * outside (renameat2 RENAME_EXCHANGE, from a helper bounded in time), no request runs the outside script. Every
 * answer is the inside script's, or a refusal.
 */
class SymlinkSwapTest extends LimitsFixture {
    static final int REQUESTS = 40;
    /** How long requests go on past {@link #REQUESTS} while none has run the inside script (a loaded machine). */
    static final long MORE_MILLIS = 15_000;
    // argv: the two names to exchange, seconds to run. Stops by itself. Each swap to the outside is swapped back
    // 0.3 ms later and the inside then holds for 1 ms: thousands of swaps a second, leaving the server a core, and
    // a fair chance that a request's checks all see the inside, so that the test is not passed by refusing all.
    static final String SWAPPER = """
            import ctypes, sys, time
            libc = ctypes.CDLL(None, use_errno=True)
            a, b, end = sys.argv[1].encode(), sys.argv[2].encode(), time.time() + float(sys.argv[3])
            while time.time() < end:
                for hold in (0.0003, 0.001):
                    if libc.renameat2(-100, a, -100, b, 2) != 0:
                        sys.exit('renameat2: errno %d' % ctypes.get_errno())
                    time.sleep(hold)
            """;

    @Test
    void aShellScriptNeverRunsOutside() throws Exception {
        assertNeverOutside("app.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n%s\\n' ");
    }

    @Test
    void aPythonScriptNeverRunsOutside() throws Exception {
        assertNeverOutside("app.py", "import sys\nsys.stdout.write('Content-Type: text/plain\\n\\n%s\\n' % ");
    }

    private void assertNeverOutside(String name, String printer) throws Exception {
        String t = tag();
        Path scripts = quick.scripts();
        Path outside = Files.createDirectories(temp.resolve("outside-" + t));
        String py = name.endsWith(".py") ? "'" : "";
        String end = name.endsWith(".py") ? ")\n" : "\n";
        KilnTestServer.writeScript(outside, name, printer + py + "OUTSIDE" + py + end);
        quick.script("swap" + t + "/" + name, printer + py + "inside" + py + end);
        Path link = scripts.resolve("link" + t);
        Files.createSymbolicLink(link, outside);
        Path helper = marks.resolve("swap-" + t + ".py");
        Files.writeString(helper, SWAPPER);
        Process swapper = new ProcessBuilder(PY, helper.toString(), scripts.resolve("swap" + t).toString(),
                link.toString(), "25").redirectErrorStream(true).start();
        int inside = 0;
        int outsideRuns = 0;
        long more = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MORE_MILLIS);
        try {
            for (int i = 0; swapper.isAlive() && (i < REQUESTS || inside == 0 && System.nanoTime() < more); i++) {
                HttpResponse<String> r = quick.get("/cgi-bin/swap" + t + "/" + name);
                if (r.body().equals("OUTSIDE\n")) {
                    outsideRuns++;
                } else if (r.body().equals("inside\n")) {
                    inside++;
                } else {
                    assertThat(r.statusCode()).as(r.body()).isIn(403, 404, 500);
                }
            }
            if (!swapper.isAlive()) {
                throw new AssertionError("the swapper stopped early: " + new String(swapper.getInputStream()
                        .readAllBytes()));
            }
        } finally {
            swapper.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        assertThat(outsideRuns).as("requests that ran the outside script (%d ran inside)", inside).isZero();
        assertThat(List.of(inside)).as("some requests still ran the inside script").doesNotContain(0);
    }
}
