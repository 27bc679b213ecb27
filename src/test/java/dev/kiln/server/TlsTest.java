package dev.kiln.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.config.ConfigException;
import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnTestServer;

/**
 * Standalone HTTPS from a PEM certificate and key or from a PKCS#12 keystore (made here by openssl): scripts see
 * HTTPS=on and the HTTPS port, a client gets HTTP/2 or HTTP/1.1 as it asks, plain HTTP redirects when told to,
 * and a key Kiln cannot use stops it at start with one line naming the option.
 */
class TlsTest {
    private static final String ENV_SCRIPT = """
            #!/bin/sh
            printf 'Content-Type: text/plain\\n\\n'
            printf 'HTTPS=%s\\nREQUEST_SCHEME=%s\\nSERVER_PORT=%s\\nSERVER_PROTOCOL=%s\\n' \\
              "${HTTPS-unset}" "$REQUEST_SCHEME" "$SERVER_PORT" "$SERVER_PROTOCOL"
            """;

    @TempDir
    static Path certs;
    private static HttpClient client;

    @TempDir
    Path temp;

    @BeforeAll
    static void makeCertificates() throws Exception {
        Commands.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost").in(certs).ok();
        Commands.of("openssl", "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-out", "cert.p12",
                "-passout", "pass:s3cret").in(certs).ok();
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(certs.resolve("cert.pem"))) {
            trust.setCertificateEntry("kiln", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        client = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Test
    void pemCertificateServesHttp2AndHttp11AndScriptsSeeHttps() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("tls-cert", certs.resolve("cert.pem").toString())
                .option("tls-key", certs.resolve("key.pem").toString()).option("https-port", "0").start()) {
            kiln.script("env.sh", ENV_SCRIPT);
            HttpResponse<String> h2 = get(kiln, HttpClient.Version.HTTP_2);
            assertThat(h2.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(h2.body()).contains("HTTPS=on\n", "REQUEST_SCHEME=https\n", "SERVER_PROTOCOL=HTTP/2.0\n",
                    "SERVER_PORT=" + kiln.httpsPort() + "\n");
            HttpResponse<String> h1 = get(kiln, HttpClient.Version.HTTP_1_1);
            assertThat(h1.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            assertThat(h1.body()).contains("HTTPS=on\n", "SERVER_PROTOCOL=HTTP/1.1\n");
            assertThat(kiln.get("/cgi-bin/env.sh").body()).as("plain HTTP still serves").contains("HTTPS=unset\n");
        }
    }

    @Test
    void pkcs12KeystoreServesAndPlainHttpRedirectsToHttps() throws Exception {
        try (KilnTestServer kiln = KilnTestServer.builder(temp).option("tls-cert", certs.resolve("cert.p12").toString())
                .option("tls-password", "s3cret").option("https-port", "0").option("redirect-to-https", "true")
                .start()) {
            kiln.script("env.sh", ENV_SCRIPT);
            assertThat(get(kiln, HttpClient.Version.HTTP_2).body()).contains("HTTPS=on\n");
            HttpResponse<String> plain = kiln.get("/cgi-bin/env.sh?a=1");
            assertThat(plain.statusCode()).isEqualTo(308);
            assertThat(plain.headers().firstValue("Location")).hasValue("https://127.0.0.1:" + kiln.httpsPort()
                    + "/cgi-bin/env.sh?a=1");
        }
    }

    @Test
    void aKeyKilnCannotUseStopsItAtStartNamingTheOption() throws Exception {
        Path pkcs1 = temp.resolve("rsa-key.pem");
        Files.writeString(pkcs1, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> KilnTestServer.builder(temp).option("tls-cert", certs.resolve("cert.pem").toString())
                .option("tls-key", pkcs1.toString()).option("https-port", "0").start())
                .isInstanceOf(ConfigException.class).hasMessageContaining("tls-key " + pkcs1)
                .hasMessageContaining("fix: openssl pkcs8 -topk8");
        assertThatThrownBy(() -> KilnTestServer.builder(temp).option("tls-cert", certs.resolve("cert.p12").toString())
                .option("tls-password", "wrong").option("https-port", "0").start())
                .isInstanceOf(ConfigException.class).hasMessageContaining("tls-cert " + certs.resolve("cert.p12"))
                .hasMessageContaining("KILN_TLS_PASSWORD");
        assertThatThrownBy(() -> KilnTestServer.builder(temp).option("redirect-to-https", "true").start())
                .isInstanceOf(ConfigException.class).hasMessageContaining("fix: set tls-cert");
    }

    private static HttpResponse<String> get(KilnTestServer kiln, HttpClient.Version version) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + kiln.httpsPort()
                + "/cgi-bin/env.sh")).version(version).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
