package dev.kiln.server;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;

/**
 * The certificate and key of {@code tls-cert} as a {@link KeyStore} for Jetty: a PKCS#12 file as it is, or a PEM
 * chain and its PKCS#8 key put into an in-memory store. Every failure names the file and the fix.
 */
final class TlsKeyStore {
    /** Password of the in-memory store made from PEM files; it never leaves this process. */
    static final String PEM_STORE_PASSWORD = "kiln";
    private static final Pattern PEM_KEY = Pattern.compile(
            "-----BEGIN ([A-Z ]*)PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END \\1PRIVATE KEY-----");

    private TlsKeyStore() {
    }

    static KeyStore load(KilnConfig.Tls tls) {
        byte[] cert = read(tls.cert(), "tls-cert");
        try {
            if (!new String(cert, StandardCharsets.US_ASCII).contains("-----BEGIN")) {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(new ByteArrayInputStream(cert), tls.password().toCharArray());
                return store;
            }
        } catch (GeneralSecurityException | IOException e) {
            throw new ConfigException("tls-cert " + tls.cert() + " is neither PEM nor a PKCS#12 keystore this "
                    + "tls-password opens (" + e.getMessage() + "); fix: the certificate file, or KILN_TLS_PASSWORD");
        }
        if (tls.key() == null) {
            throw new ConfigException("tls-cert " + tls.cert() + " is PEM and has no key; fix: set tls-key to its "
                    + "private key file");
        }
        try (InputStream in = new ByteArrayInputStream(cert)) {
            List<? extends Certificate> chain = List.copyOf(CertificateFactory.getInstance("X.509")
                    .generateCertificates(in));
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("kiln", privateKey(tls.key()), PEM_STORE_PASSWORD.toCharArray(),
                    chain.toArray(Certificate[]::new));
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new ConfigException("tls-cert " + tls.cert() + " or tls-key " + tls.key() + " cannot be used ("
                    + e.getMessage() + "); fix: a PEM certificate chain and the private key that matches it");
        }
    }

    private static PrivateKey privateKey(Path file) throws GeneralSecurityException {
        Matcher m = PEM_KEY.matcher(new String(read(file, "tls-key"), StandardCharsets.US_ASCII));
        if (!m.find() || !m.group(1).isEmpty()) {
            throw new ConfigException("tls-key " + file + " is not an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY)"
                    + "; fix: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(2)));
        GeneralSecurityException last = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }

    private static byte[] read(Path file, String option) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException(option + " " + file + " cannot be read (" + e + "); fix: the path, or its "
                    + "permissions for the user Kiln runs as");
        }
    }
}
