package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;

/**
 * Who may read /kiln/, /kiln/status and /kiln/metrics, and what / shows: behind a reverse proxy on the same host
 * every request comes from 127.0.0.1, so a forwarding header makes a client remote; a token lets remote clients in.
 */
class StatusAccessTest {
    private static final List<String> PAGES = List.of("/kiln/", "/kiln/status", "/kiln/metrics");

    @TempDir
    Path temp;

    @Test
    void aProxiedLoopbackClientIsRemoteAndSeesNoStatusNorScriptList() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            kiln.script("secret-name.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n");
            for (String page : PAGES) {
                assertThat(kiln.get(page).statusCode()).as("local " + page).isEqualTo(200);
                for (String header : List.of("X-Forwarded-For", "Forwarded", "X-Real-IP")) {
                    assertThat(get(kiln, page, header, "for=203.0.113.9").statusCode()).as(header + " " + page)
                            .isEqualTo(403);
                }
            }
            HttpResponse<String> local = kiln.get("/");
            assertThat(local.body()).contains("secret-name.sh").contains("/kiln/")
                    .doesNotContain(kiln.scripts().toString());
            HttpResponse<String> proxied = get(kiln, "/", "X-Forwarded-For", "203.0.113.9");
            assertThat(proxied.statusCode()).isEqualTo(200);
            assertThat(proxied.body()).doesNotContain("secret-name.sh").doesNotContain("/kiln/")
                    .doesNotContain(kiln.scripts().toString());
            assertThat(kiln.get("/kiln/health").statusCode()).isEqualTo(200);
            assertThat(get(kiln, "/kiln/ready", "X-Forwarded-For", "203.0.113.9").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aTokenLetsRemoteClientsInAsBearerOrBasicAndListScriptsFalseHidesTheList() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("status-token", "s3cret")
                .option("list-scripts", "false").start()) {
            kiln.script("listed.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n");
            for (String page : PAGES) {
                HttpResponse<String> asked = get(kiln, page, "X-Forwarded-For", "203.0.113.9");
                assertThat(asked.statusCode()).as(page).isEqualTo(401);
                assertThat(asked.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Basic realm=");
                assertThat(send(kiln, page, "Bearer s3cret").statusCode()).as("bearer " + page).isEqualTo(200);
                assertThat(send(kiln, page, basic("anyone:s3cret")).statusCode()).as("basic " + page).isEqualTo(200);
                assertThat(send(kiln, page, "Bearer wrong").statusCode()).isEqualTo(401);
                assertThat(send(kiln, page, basic("anyone:wrong")).statusCode()).isEqualTo(401);
            }
            assertThat(kiln.get("/").body()).as("listing turned off").doesNotContain("listed.sh").contains("/kiln/");
        }
    }

    @Test
    void statusOffIs404Everywhere() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("status", "off").start()) {
            for (String page : PAGES) {
                assertThat(kiln.get(page).statusCode()).as(page).isEqualTo(404);
            }
        }
    }

    private static String basic(String pair) {
        return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }

    private static HttpResponse<String> send(KilnTestServer kiln, String page, String authorization) throws Exception {
        return kiln.send(HttpRequest.newBuilder(kiln.uri(page)).header("X-Forwarded-For", "203.0.113.9")
                .header("Authorization", authorization).build());
    }

    private static HttpResponse<String> get(KilnTestServer kiln, String page, String header, String value)
            throws Exception {
        return kiln.send(HttpRequest.newBuilder(kiln.uri(page)).header(header, value).build());
    }
}
