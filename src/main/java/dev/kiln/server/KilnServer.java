package dev.kiln.server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.server.CustomRequestLog;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.Slf4jRequestLogWriter;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import dev.kiln.Kiln;
import dev.kiln.config.KilnConfig;
import dev.kiln.web.IndexServlet;
import dev.kiln.web.StatusServlet;

/** The standalone server: an embedded Jetty with Kiln's three servlets. */
public final class KilnServer implements AutoCloseable {
    private final Server jetty;
    private final Kiln kiln;
    private final ServerConnector connector;

    private KilnServer(Server jetty, ServerConnector connector, Kiln kiln) {
        this.jetty = jetty;
        this.connector = connector;
        this.kiln = kiln;
    }

    /** Builds Kiln from the configuration and starts listening. */
    public static KilnServer start(KilnConfig config, Map<String, String> hostEnv) throws Exception {
        Kiln kiln = new Kiln(config, hostEnv, Path.of(System.getProperty("java.io.tmpdir")));
        try {
            return start(kiln);
        } catch (Exception e) {
            kiln.close();
            throw e;
        }
    }

    static KilnServer start(Kiln kiln) throws Exception {
        KilnConfig config = kiln.config();
        KilnConfig.Concurrency concurrency = config.concurrency();
        KilnConfig.Clients clients = config.clients();
        QueuedThreadPool threads = new QueuedThreadPool(Math.max(clients.maxThreads(),
                concurrency.maxConcurrent() + concurrency.maxQueued() + clients.maxUploads() + 16));
        threads.setName("kiln-http");
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setHttpCompliance(HttpCompliance.RFC9110); // Jetty's strictest: ambiguous framing is a 400
        // blocking reads and writes of a request being served: a client that stalls is cut, not waited for (one
        // that trickles is cut by BodyPace: Jetty's own minimum rate gives a small body no grace)
        http.setIdleTimeout(clients.bodyTimeout().toMillis());
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(config.listen().bind());
        connector.setPort(config.listen().port());
        server.addConnector(connector);

        ServletContextHandler context = new ServletContextHandler("/");
        ServletHolder cgi = new ServletHolder("cgi", new JettyCgiServlet(kiln));
        cgi.setAsyncSupported(true); // a stalled upload's rest is waited for without a request thread
        context.addServlet(cgi, "/cgi-bin/*");
        context.addServlet(new ServletHolder("status", new StatusServlet(kiln)), "/kiln/status");
        context.addServlet(new ServletHolder("index", new IndexServlet(kiln)), "");
        context.setErrorHandler(new ContextErrorPages());
        server.setHandler(context);
        server.setErrorHandler(new ServerErrorPages());
        if (config.operations().accessLog()) {
            Slf4jRequestLogWriter writer = new Slf4jRequestLogWriter();
            writer.setLoggerName("kiln.access");
            server.setRequestLog(new CustomRequestLog(writer, CustomRequestLog.EXTENDED_NCSA_FORMAT));
        }
        server.setStopAtShutdown(false);
        try {
            server.start();
        } catch (IOException e) {
            server.stop();
            throw e;
        }
        kiln.startServing();
        return new KilnServer(server, connector, kiln);
    }

    public int port() {
        return connector.getLocalPort();
    }

    public Kiln kiln() {
        return kiln;
    }

    public void join() throws InterruptedException {
        jetty.join();
    }

    /**
     * Stops accepting requests, lets running scripts finish for up to the kill grace, stops the rest (SIGTERM,
     * then SIGKILL), then stops Jetty: no script outlives the server.
     */
    @Override
    public void close() throws Exception {
        try {
            connector.close();
            kiln.awaitIdle(kiln.config().timeouts().killGrace());
        } finally {
            try {
                kiln.close();
            } finally {
                jetty.stop();
            }
        }
    }
}
