package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.config.AddressRange;
import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.RawHttp;

/**
 * trusted-proxies: a request from a trusted proxy (127.0.0.1) gets the client's address, scheme, host and port
 * from its Forwarded / X-Forwarded-* headers; the same headers from another peer on loopback (127.0.0.2) change
 * nothing, and nor do they when no proxy is trusted. X-Forwarded-Prefix goes into the links Kiln builds, from a
 * trusted proxy only.
 */
class TrustedProxiesTest {
    private static final String ENV_SCRIPT = """
            #!/bin/sh
            printf 'Content-Type: text/plain\\n\\n'
            for v in REMOTE_ADDR REQUEST_SCHEME HTTPS SERVER_NAME SERVER_PORT HTTP_X_FORWARDED_FOR; do
              eval "printf '%s=%s\\n' $v \\"\\${$v-unset}\\""
            done
            """;
    private static final String X_FORWARDED = "X-Forwarded-For: 198.51.100.66, 203.0.113.9, 10.1.2.3\r\n"
            + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: www.example.org\r\n";
    private static final String FORWARDED = "Forwarded: for=192.0.2.60;proto=https;host=example.com:8443\r\n";

    @TempDir
    Path temp;

    @Test
    void aTrustedProxySaysWhoTheClientIsAndNobodyElseDoes() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("trusted-proxies", "127.0.0.1, 10.0.0.0/8")
                .start()) {
            kiln.script("env.sh", ENV_SCRIPT);
            Map<String, String> viaProxy = env(kiln, "127.0.0.1", X_FORWARDED);
            // 10.1.2.3 is a trusted proxy too; 198.51.100.66 is what the client claimed, and it is not believed
            assertThat(viaProxy).containsEntry("REMOTE_ADDR", "203.0.113.9").containsEntry("REQUEST_SCHEME", "https")
                    .containsEntry("HTTPS", "on").containsEntry("SERVER_NAME", "www.example.org")
                    .containsEntry("SERVER_PORT", "443")
                    .containsEntry("HTTP_X_FORWARDED_FOR", "198.51.100.66, 203.0.113.9, 10.1.2.3");
            assertThat(env(kiln, "127.0.0.1", FORWARDED)).containsEntry("REMOTE_ADDR", "192.0.2.60")
                    .containsEntry("REQUEST_SCHEME", "https").containsEntry("HTTPS", "on")
                    .containsEntry("SERVER_NAME", "example.com").containsEntry("SERVER_PORT", "8443");
            for (String headers : List.of(X_FORWARDED, FORWARDED)) {
                assertThat(env(kiln, "127.0.0.2", headers)).as("from an untrusted peer")
                        .containsAllEntriesOf(direct("127.0.0.2", kiln.port()));
            }
        }
    }

    @Test
    void withoutTheOptionForwardingHeadersAreIgnored() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).start()) {
            kiln.script("env.sh", ENV_SCRIPT);
            assertThat(env(kiln, "127.0.0.1", X_FORWARDED + FORWARDED))
                    .containsAllEntriesOf(direct("127.0.0.1", kiln.port()));
        }
    }

    @Test
    void aTrustedProxysPrefixIsInKilnsOwnLinksAndScriptNamesStayTrue() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("trusted-proxies", "127.0.0.1")
                .option("status", "all").start()) {
            kiln.script("name.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nSCRIPT_NAME=%s\\nPREFIX=%s\\n' "
                    + "\"$SCRIPT_NAME\" \"$HTTP_X_FORWARDED_PREFIX\"\n");
            String prefix = "X-Forwarded-Prefix: /apps/kiln/\r\n";
            assertThat(page(kiln, "127.0.0.1", "/", prefix)).contains("href=\"/apps/kiln/cgi-bin/name.sh\"",
                    "href=\"/apps/kiln/kiln/\"");
            assertThat(page(kiln, "127.0.0.1", "/kiln/", prefix)).contains("href=\"/apps/kiln/kiln/status\"",
                    "href=\"/apps/kiln/kiln/metrics\"");
            assertThat(page(kiln, "127.0.0.1", "/cgi-bin/name.sh", prefix)).as("RFC 3875's SCRIPT_NAME, as mod_proxy")
                    .contains("SCRIPT_NAME=/cgi-bin/name.sh\nPREFIX=/apps/kiln/\n");
            assertThat(page(kiln, "127.0.0.2", "/", prefix)).as("from an untrusted peer")
                    .contains("href=\"/cgi-bin/name.sh\"", "href=\"/kiln/\"").doesNotContain("/apps/kiln");
            assertThat(page(kiln, "127.0.0.2", "/kiln/", prefix)).doesNotContain("/apps/kiln");
            for (String hostile : List.of("//evil.example", "/a\"><b>evil", "/../evil", "https://evil.example/x",
                    "/a/./evil", "evil")) {
                assertThat(page(kiln, "127.0.0.1", "/", "X-Forwarded-Prefix: " + hostile + "\r\n")).as(hostile)
                        .contains("href=\"/cgi-bin/name.sh\"").doesNotContain("evil");
            }
        }
    }

    @Test
    void entriesAreAddressesOrCidrBlocksAndNothingElse() {
        assertThat(AddressRange.parse("10.0.0.0/8").contains(address("10.200.3.4"))).isTrue();
        assertThat(AddressRange.parse("10.0.0.0/8").contains(address("11.0.0.1"))).isFalse();
        assertThat(AddressRange.parse("fd00::/8").contains(address("fd12::1"))).isTrue();
        assertThat(AddressRange.parse("fd00::/8").contains(address("10.0.0.1"))).isFalse();
        assertThat(AddressRange.parse("192.0.2.7").contains(address("192.0.2.8"))).isFalse();
        for (String bad : List.of("proxy.example.org", "10.0.0.0/33", "::1/129", "1.2.3")) {
            assertThatThrownBy(() -> KilnConfig.resolve(List.of(new KilnConfig.Source("--trusted-proxies",
                    Map.of("trusted-proxies", "127.0.0.1," + bad))), Map.of()))
                    .isInstanceOf(ConfigException.class).hasMessageContaining("'" + bad + "'")
                    .hasMessageContaining("trusted-proxies").hasMessageContaining("CIDR");
        }
    }

    private static Map<String, String> direct(String client, int port) {
        return Map.of("REMOTE_ADDR", client, "REQUEST_SCHEME", "http", "HTTPS", "unset", "SERVER_NAME", "127.0.0.1",
                "SERVER_PORT", Integer.toString(port));
    }

    private static Map<String, String> env(KilnTestServer kiln, String from, String headers) throws Exception {
        RawHttp.Reply reply = RawHttp.exchange(address(from), kiln.port(), "GET /cgi-bin/env.sh HTTP/1.1\r\n"
                + "Host: 127.0.0.1:" + kiln.port() + "\r\n" + headers + "Connection: close\r\n\r\n");
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : reply.body().split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return env;
    }

    private static String page(KilnTestServer kiln, String from, String path, String headers) throws Exception {
        RawHttp.Reply reply = RawHttp.exchange(address(from), kiln.port(), "GET " + path + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1:" + kiln.port() + "\r\n" + headers + "Connection: close\r\n\r\n");
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        return reply.body();
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
