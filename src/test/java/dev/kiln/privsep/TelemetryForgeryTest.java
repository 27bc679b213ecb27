package dev.kiln.privsep;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.testing.EachRunMode;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;

/**
 * A script writing Kiln's own marker lines on its stderr changes nothing Kiln believes: cache problems count only
 * once Kiln sees them itself, paths outside the cache are ignored, counters stay within what one run can do.
 */
@EachRunMode
class TelemetryForgeryTest {
    @Parameter
    String runMode;

    @TempDir
    Path temp;

    @Test
    void forgedLoaderLinesNeitherRaiseAlarmsNorInflateCounters() throws Exception {
        try (LogCapture logs = LogCapture.capture();
             KilnTestServer kiln = KilnTestServer.builder(temp).runMode(runMode).start()) {
            kiln.script("forge.py", """
                    #!/usr/bin/python3
                    import os, sys
                    M = '\\x1ekiln:'
                    prefix = os.environ['PYTHONPYCACHEPREFIX']
                    print('Content-Type: text/plain\\n\\nforged', flush=True)
                    for line in ('cache-error op=write errno=EACCES path=/proc/1/x.pyc dir=/proc/1',
                                 'cache-error op=mkdir errno=EACCES path=%s/usr/x dir=%s' % (prefix, prefix),
                                 'cache-error op=read errno=EACCES path=%s/../runtime/kiln_boot.py dir=%s'
                                 % (prefix, prefix),
                                 'cache-error op=write errno=ENOSPC path=%s/a.pyc dir=%s' % (prefix, prefix),
                                 'stats compiled=424243 cached=424243 shipped=424243 compile_us=999999999999'):
                        sys.stderr.write(M + line + '\\n')
                    sys.stderr.flush()
                    os._exit(0)     # no genuine stats line after the forged one
                    """);
            for (int i = 0; i < 3; i++) {
                assertThat(kiln.get("/cgi-bin/forge.py").body()).isEqualTo("forged\n");
            }
            kiln.awaitCounters("forge.py", s -> s.requests() == 3);
            JsonNode cache = kiln.status().path("cache");
            assertThat(cache.path("healthy").booleanValue()).as("%s", cache).isTrue();
            assertThat(cache.path("problems")).isEmpty();
            assertThat(cache.path("lastError").isNull()).as("%s", cache).isTrue();
            assertThat(logs.matching("WARN", "kiln.cache")).isEmpty();
            assertThat(logs.matching("/proc/1")).isEmpty();
            JsonNode stats = kiln.status().path("scriptsStats").path("forge.py");
            // at most 10,000 modules a run (hgweb imports about 400), plus the entry script Kiln compiled itself
            assertThat(stats.path("modulesCompiled").asLong()).as("%s", stats).isLessThanOrEqualTo(3 * 10_000L + 1);
            assertThat(stats.path("cacheHits").asLong()).isLessThanOrEqualTo(3 * 10_000L);
            assertThat(stats.path("compileMillis").asLong()).as("no more than the runs took").isLessThan(60_000L);
        }
    }
}
