package dev.kiln.server;

import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http2.HTTP2Cipher;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import dev.kiln.config.KilnConfig;

/** The HTTPS connector: TLS from {@link TlsKeyStore}, then HTTP/2 or HTTP/1.1 as the client's ALPN asks. */
final class HttpsConnector {
    private HttpsConnector() {
    }

    /** {@code http} is the plain connector's configuration; HTTPS gets a copy that knows it is secure. */
    static ServerConnector create(Server server, HttpConfiguration http, KilnConfig.Tls tls, String bind) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(TlsKeyStore.load(tls));
        ssl.setKeyStorePassword(tls.key() == null ? tls.password() : TlsKeyStore.PEM_STORE_PASSWORD);
        ssl.setCipherComparator(HTTP2Cipher.COMPARATOR);
        HttpConfiguration https = new HttpConfiguration(http);
        https.addCustomizer(new SecureRequestCustomizer());
        HttpConnectionFactory http11 = new HttpConnectionFactory(https);
        HTTP2ServerConnectionFactory http2 = new HTTP2ServerConnectionFactory(https);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http11.getProtocol());
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, alpn.getProtocol()),
                alpn, http2, http11);
        connector.setHost(bind);
        connector.setPort(tls.httpsPort());
        return connector;
    }
}
