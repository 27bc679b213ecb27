package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;

import dev.kiln.testing.EachRunMode;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.Poll;
import dev.kiln.testing.ProcScan;

/**
 * What the suites on failures and limits share: per run mode one Kiln with tight limits ({@code quick}) running
 * real {@code /bin/sh}, perl and python3 scripts, checked after every test to still serve with no script running
 * and no zombie left. Processes are proven gone with {@link ProcScan}, by marker strings unique to each test
 * (script file names and {@code sleep 300.NNNNNN} arguments).
 */
@EachRunMode
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one quick Kiln per run mode for the class
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a broken kill must fail, not hang
abstract class LimitsFixture {
    static final String PY = KilnTestServer.DEBIAN_PYTHON;
    static final long MAX_BODY = 24L * 1024 * 1024;
    static final Pattern FILE_PATH = Pattern.compile("/(tmp|usr|bin|home|root|work|proc|etc|var|nonexistent)/");

    @Parameter
    String runMode;
    Path temp;
    KilnTestServer quick;
    Path marks;

    @BeforeParameterizedClassInvocation(injectArguments = false)
    void startQuick(@TempDir Path dir) throws Exception {
        temp = dir;
        quick = builder(temp.resolve("quick"))
                .option("timeout", "3s")
                .option("idle-timeout", "1s")
                .option("kill-grace", "500ms")
                .option("stderr-timeout", "1s")
                .option("max-header-size", "4k")
                .option("max-stderr-line", "100")
                .option("max-body", "24m")
                .start();
        marks = KilnTestServer.scriptWritable(temp.resolve("marks"));
        quick.script("hello.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello\\n'\n");
    }

    @AfterParameterizedClassInvocation
    void stopQuick() throws Exception {
        if (quick != null) {
            quick.close();
        }
    }

    /** Whatever a test did to it, the quick Kiln still serves, runs nothing and left no zombie behind. */
    @AfterEach
    void quickStillServes() throws Exception {
        HttpResponse<String> r = quick.get("/cgi-bin/hello.sh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hello\n");
        Poll.withinMillis(3000).until("no script running", () -> quick.status().path("scriptsRunning").asLong(),
                running -> running == 0);
        Poll.withinMillis(3000).until("no zombie children of the JVM", ProcScan::zombieChildren, z -> z.isEmpty());
    }

    /** A Kiln of the same run mode with limits of a test's own. */
    KilnTestServer.Builder builder(Path dir) {
        return KilnTestServer.builder(dir).runMode(runMode);
    }

    static String tag() {
        return Integer.toString(ThreadLocalRandom.current().nextInt(100_000, 1_000_000));
    }

    HttpRequest get(String path) {
        return get(quick, path);
    }

    static HttpRequest get(KilnTestServer server, String path) {
        return HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(30)).GET().build();
    }

    static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    /** The log line without its level: {@code [logger] message}. */
    static String afterLevel(String line) {
        return line.substring(line.indexOf(' ') + 1);
    }

    void assertShortErrorPage(HttpResponse<String> r, int status, String requestPath) {
        String body = r.body();
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
        assertThat(body.length()).as(body).isLessThan(600);
        assertThat(body).contains("<html").contains(Integer.toString(status)).contains(requestPath);
        assertThat(body).as("no file-system path").doesNotContainPattern(FILE_PATH)
                .doesNotContain(temp.toString());
        assertThat(body).as("no stack trace").doesNotContain("Exception").doesNotContain("\tat ")
                .doesNotContain("dev.kiln").doesNotContain("No such file");
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SplittableRandom(n).nextBytes(b);
        return b;
    }

    static String hex(String algorithm, byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(data));
    }
}
