package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.kiln.testing.KilnStatus;
import dev.kiln.testing.Poll;
import dev.kiln.testing.ScriptCounters;

/**
 * kiln-servlet.jar in a webapp that was there before Kiln ({@code /existing}, see {@link ExistingWebapps}): the
 * webapp keeps serving its own pages, Kiln runs scripts kept outside it, logs into Tomcat's JULI files, and a
 * redeploy keeps both the scripts and the cache.
 */
@ExtendWith(SharedTomcat.class)
class TomcatServletJarIT {
    /** A script's stderr line as JULI writes it: its logger (the script) and request id in the message. */
    private static final Pattern STDERR_LINE = Pattern.compile(" INFO \\[[^]]+\\] \\S+ \\[kiln\\.script\\.hello\\.py\\] "
            + "req=\\S+ (pid=\\d+ )?" + Pattern.quote(ExistingWebapps.STDERR_LINE));

    private final TomcatServer tomcat;
    private final KilnStatus existing;

    TomcatServletJarIT(TomcatServer shared) {
        this.tomcat = shared;
        this.existing = path -> shared.get("/existing" + path);
    }

    @Test
    void theWebappKeepsItsOwnPagesAndKilnRunsItsScripts() throws Exception {
        HttpResponse<String> index = tomcat.get("/existing/");
        assertThat(index.statusCode()).as(tomcat.describe(index)).isEqualTo(200);
        assertThat(index.body()).contains("existing webapp, version");
        HttpResponse<String> hello = tomcat.get("/existing/cgi-bin/hello.py");
        assertThat(hello.statusCode()).as(tomcat.describe(hello)).isEqualTo(200);
        assertThat(hello.body()).isEqualTo("Hello from an existing webapp\n");
        assertThat(hello.headers().firstValue("X-Request-Id")).as("the snippet's filter").isPresent();
        assertThat(tomcat.get("/existing/kiln/health").statusCode()).isEqualTo(200);
        assertThat(tomcat.get("/existing/kiln/ready").statusCode()).isEqualTo(200);
        assertThat(tomcat.get("/existing/kiln/metrics").statusCode()).as("not in the snippet").isEqualTo(404);
    }

    @Test
    void scriptsAndCacheAreOutsideTheWebappAndItsWorkFolder() throws Exception {
        Map<String, Object> status = tomcat.status("/existing");
        assertThat(Path.of((String) status.get("scripts"))).isEqualTo(tomcat.real("kiln/existing/cgi-bin"));
        @SuppressWarnings("unchecked")
        Map<String, Object> cache = (Map<String, Object>) status.get("cache");
        assertThat(Path.of((String) cache.get("folder"))).isEqualTo(tomcat.real("kiln/existing/cache"));
        assertThat(cache).containsEntry("healthy", true);
    }

    @Test
    void kilnsLinesReachTomcatsJuliLogFile() throws Exception {
        tomcat.get("/existing/cgi-bin/hello.py");
        String startLine = "scripts folder: " + tomcat.real("kiln/existing/cgi-bin");
        String warLine = "scripts folder: " + tomcat.real("webapps/kiln/WEB-INF/cgi-bin"); // kiln.war logs so too
        Poll.within(Duration.ofSeconds(15)).until("Kiln's lines in logs/catalina.*.log", () -> {
            String juli = juliLog();
            return juli.contains(startLine) && juli.contains(warLine) && STDERR_LINE.matcher(juli).find();
        });
    }

    @Test
    void aRedeployKeepsTheScriptsAndTheCache() throws Exception {
        // the first deploy's first request (at start-up) compiled the script and its module into the cache
        ScriptCounters first = existing.awaitCounters("hello.py", c -> c.requests() >= 1);
        assertThat(first.compiled()).as("first deploy: %s", first).isPositive();

        ExistingWebapps.deployExisting(tomcat.base, 2);
        Poll.within(Duration.ofSeconds(60)).until("the redeployed /existing", () -> {
            HttpResponse<String> r = tomcat.get("/existing/");
            return r.statusCode() == 200 && r.body().contains("version 2");
        });
        // the first deploy's fork-servers, their threads and the metrics' went with it
        assertThat(tomcat.log()).doesNotContain("The web application [existing] appears to have started a thread");
        HttpResponse<String> hello = tomcat.get("/existing/cgi-bin/hello.py");
        assertThat(hello.statusCode()).as(tomcat.describe(hello)).isEqualTo(200);
        ScriptCounters second = existing.awaitCounters("hello.py", c -> c.requests() >= 1);
        assertThat(second.lastRequestCompiled()).as("the second deploy's first request: %s", second).isZero();
        assertThat(second.cached()).as("the second deploy's first request: %s", second).isPositive();
        // what was lost before: the context's work folder is a new, empty one
        try (Stream<Path> work = Files.list(tomcat.base.resolve("work/Catalina/localhost/existing"))) {
            assertThat(work.map(p -> p.getFileName().toString()).toList()).doesNotContain("kiln-cache");
        }
    }

    private String juliLog() throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> logs = Files.list(tomcat.base.resolve("logs"))) {
            List<Path> catalina = logs.filter(p -> p.getFileName().toString().matches("catalina\\..*\\.log")).toList();
            assertThat(catalina).as("JULI's catalina.<date>.log").isNotEmpty();
            for (Path p : catalina) {
                all.append(Files.readString(p));
            }
        }
        return all.toString();
    }
}
