package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.kiln.testing.Json;

/**
 * Tomcat CGIServlet's init-param names read by Kiln's servlet in a real Tomcat (contexts {@code /tomcatnames}
 * and {@code /tomcatshell}, see {@link TomcatServer}), each against {@code /kiln} or the other as control.
 */
@ExtendWith(SharedTomcat.class)
class TomcatInitParamsIT {
    private final TomcatServer tomcat;

    TomcatInitParamsIT(TomcatServer shared) {
        this.tomcat = shared;
    }

    @Test
    void cgiPathPrefixChoosesTheScriptsFolder() throws Exception {
        Path other = tomcat.real("webapps/tomcatnames/WEB-INF/other-cgi");
        assertThat(Path.of((String) tomcat.status("/tomcatnames").get("scripts"))).isEqualTo(other);
        HttpResponse<String> env = tomcat.get("/tomcatnames/cgi-bin/env.py?format=json");
        assertThat(env.statusCode()).as(tomcat.describe(env)).isEqualTo(200);
        assertThat(Json.map(env.body()))
                .containsEntry("SCRIPT_FILENAME", other.resolve("env.py").toString())
                .containsEntry("SCRIPT_NAME", "/tomcatnames/cgi-bin/env.py");
        // hello.py is only in the default WEB-INF/cgi-bin, which this context no longer serves
        HttpResponse<String> hello = tomcat.get("/tomcatnames/cgi-bin/hello.py");
        assertThat(hello.statusCode()).as(tomcat.describe(hello)).isEqualTo(404);
        HttpResponse<String> index = tomcat.get("/tomcatnames/");
        assertThat(index.body()).contains("href=\"/tomcatnames/cgi-bin/env.py\"").doesNotContain("hello.py");
    }

    /** A WAR is a zip, which keeps no execute bits: require-exec is off there unless configured. */
    @Test
    void aWarRunsScriptsWithoutTheirExecuteBit() throws Exception {
        Path script = tomcat.real("webapps/kiln/WEB-INF/cgi-bin").resolve("no-exec-bit.sh");
        Files.writeString(script, "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nran\\n'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        try {
            HttpResponse<String> r = tomcat.get("/kiln/cgi-bin/no-exec-bit.sh");
            assertThat(r.statusCode()).as(tomcat.describe(r)).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ran\n");
        } finally {
            Files.delete(script);
        }
    }

    @Test
    void aKilnVariableBeatsAnInitParamAsItBeatsTheFileStandalone() throws Exception {
        // /tomcatnames says max-concurrent=3 in web.xml; Tomcat's environment has KILN_MAX_CONCURRENT
        assertThat(((Number) tomcat.status("/tomcatnames").get("maxConcurrent")).intValue()).isEqualTo(TomcatServer.MAX_CONCURRENT);
    }

    @Test
    void passShellEnvironmentDecidesWhetherTomcatsEnvironmentReachesScripts() throws Exception {
        Map<String, Object> off = Json.map(tomcat.get("/tomcatnames/cgi-bin/env.py?format=json").body());
        assertThat(off).doesNotContainKey(TomcatServer.SHELL_MARKER).doesNotContainKey("CATALINA_BASE")
                .doesNotContainKey("JAVA_HOME");
        Map<String, Object> on = Json.map(tomcat.get("/tomcatshell/cgi-bin/env.py?format=json").body());
        assertThat(on).containsEntry(TomcatServer.SHELL_MARKER, TomcatServer.SHELL_MARKER_VALUE)
                .containsEntry("CATALINA_BASE", tomcat.base.toString())
                .doesNotContainKey("PYTHONDONTWRITEBYTECODE");
    }

    @Test
    void envHttpHeadersFiltersHttpVariables() throws Exception {
        HttpRequest.Builder b = tomcat.request("/tomcatnames/cgi-bin/env.py?format=json")
                .header("X-Kiln-Allowed", "yes")
                .header("X-Kiln-Blocked", "no")
                .header("Accept-Language", "en")
                .GET();
        Map<String, Object> filtered = Json.map(tomcat.send(b.build()).body());
        assertThat(filtered).containsEntry("HTTP_X_KILN_ALLOWED", "yes")
                .containsEntry("HTTP_ACCEPT_LANGUAGE", "en")
                .containsKey("HTTP_HOST")
                .containsKey("HTTP_USER_AGENT")
                .doesNotContainKey("HTTP_X_KILN_BLOCKED");
        // control: without the init-param every header passes
        b = tomcat.request("/kiln/cgi-bin/env.py?format=json").header("X-Kiln-Allowed", "yes")
                .header("X-Kiln-Blocked", "no").GET();
        Map<String, Object> all = Json.map(tomcat.send(b.build()).body());
        assertThat(all).containsEntry("HTTP_X_KILN_ALLOWED", "yes").containsEntry("HTTP_X_KILN_BLOCKED", "no");
    }

    @Test
    void cgiMethodsLimitsTheMethods() throws Exception {
        HttpResponse<String> put = tomcat.send(tomcat.request("/tomcatnames/cgi-bin/env.py?format=json")
                .PUT(HttpRequest.BodyPublishers.ofString("x")).build());
        assertThat(put.statusCode()).as(tomcat.describe(put)).isEqualTo(405);
        assertThat(put.headers().firstValue("Allow")).hasValueSatisfying(
                v -> assertThat(v.split("\\s*,\\s*")).containsExactlyInAnyOrder("GET", "POST"));
        HttpResponse<String> delete = tomcat.send(tomcat.request("/tomcatnames/cgi-bin/env.py").DELETE().build());
        assertThat(delete.statusCode()).as(tomcat.describe(delete)).isEqualTo(405);
        HttpResponse<String> post = tomcat.send(tomcat.request("/tomcatnames/cgi-bin/env.py?format=json")
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("abc")).build());
        assertThat(post.statusCode()).as(tomcat.describe(post)).isEqualTo(200);
        assertThat(Json.map(post.body())).containsEntry("REQUEST_METHOD", "POST")
                .containsEntry("CONTENT_LENGTH", "3");
        // control: the unconfigured war runs scripts for any method
        HttpResponse<String> kilnPut = tomcat.send(tomcat.request("/kiln/cgi-bin/env.py?format=json")
                .PUT(HttpRequest.BodyPublishers.ofString("x")).build());
        assertThat(kilnPut.statusCode()).as(tomcat.describe(kilnPut)).isEqualTo(200);
        assertThat(Json.map(kilnPut.body())).containsEntry("REQUEST_METHOD", "PUT");
    }

    @ParameterizedTest(name = "{0}: {1} to {2} ms")
    @CsvSource({"/tomcatnames/cgi-bin/linger.sh, 300, 1500", // stderrTimeout=300
            "/tomcatshell/cgi-bin/linger.sh, 1900, 4500"})     // Kiln's default stderr-timeout of 2s
    void stderrTimeoutIsMillisecondsAsInTomcat(String linger, long min, long max) throws Exception {
        // linger.sh closes stdout, then sleeps 5 s holding stderr: the request ends when Kiln stops waiting
        assertThat(timedLinger(linger)).isBetween(min, max);
    }

    private long timedLinger(String path) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r = tomcat.get(path);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(r.statusCode()).as(tomcat.describe(r)).isEqualTo(200);
        assertThat(r.body()).isEqualTo("lingering\n");
        return millis;
    }
}
