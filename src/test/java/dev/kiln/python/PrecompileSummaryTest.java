package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;

/** Precompile's summary adds up: the files it names are the compiled, fresh and failed ones, scripts apart. */
class PrecompileSummaryTest {
    private static final Pattern COUNTS = Pattern.compile(
            "of (\\d+) files \\(the scripts and the modules they import\\) (\\d+) compiled, (\\d+) already fresh, "
                    + "(\\d+) with errors");

    @TempDir
    Path temp;

    @Test
    void theCountsAddUpOnAFirstAndASecondRun() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("run-mode", "classic").start()) {
            kiln.script("a.py", "import helper\nprint('Content-Type: text/plain\\n')\n");
            kiln.script("b.py", "print('Content-Type: text/plain\\n')\n");
            kiln.script("broken.py", "def (:\n");
            kiln.script("helper.py", "X = 1\n");
            for (int run = 1; run <= 2; run++) {
                Precompiler.Summary s = kiln.kiln().precompiler().run(Precompiler.Progress.NONE);
                Matcher m = COUNTS.matcher(s.describe());
                assertThat(m.find()).as(s.describe()).isTrue();
                int files = Integer.parseInt(m.group(1));
                int compiled = Integer.parseInt(m.group(2));
                int fresh = Integer.parseInt(m.group(3));
                int errors = Integer.parseInt(m.group(4));
                assertThat(compiled + fresh + errors).as(s.describe()).isEqualTo(files);
                assertThat(errors).isEqualTo(1);
                assertThat(s.scripts()).as("every .py file is a script here").isEqualTo(4);
                assertThat(run == 1 ? compiled : fresh).as("run " + run + ": " + s.describe()).isEqualTo(3);
            }
        }
    }
}
