package dev.kiln.server;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.servlet.DispatcherType;

import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.server.handler.SecuredRedirectHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.Kiln;
import dev.kiln.cgi.Route;
import dev.kiln.config.KilnConfig;
import dev.kiln.web.HealthServlet;
import dev.kiln.web.IndexServlet;
import dev.kiln.web.MetricsServlet;
import dev.kiln.web.RequestIdFilter;
import dev.kiln.web.StatusPage;
import dev.kiln.web.StatusServlet;

/** The standalone server: an embedded Jetty with Kiln's three servlets. */
public final class KilnServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln");
    private final Server jetty;
    private final Kiln kiln;
    private final ServerConnector connector;
    private final Optional<ServerConnector> https;
    private final GracefulHandler graceful;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);

    private KilnServer(Server jetty, ServerConnector connector, Optional<ServerConnector> https,
                       GracefulHandler graceful, Kiln kiln) {
        this.jetty = jetty;
        this.graceful = graceful;
        this.connector = connector;
        this.https = https;
        this.kiln = kiln;
    }

    /** Builds Kiln from the configuration and starts listening. */
    public static KilnServer start(KilnConfig config, Map<String, String> hostEnv) throws Exception {
        Kiln kiln = new Kiln(config, hostEnv, Path.of(System.getProperty("java.io.tmpdir")));
        try {
            kiln.checkScriptUser();
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
        if (!config.listen().trustedProxies().isEmpty()) {
            http.addCustomizer(new TrustedProxies(config.listen().trustedProxies()));
        }
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(config.listen().bind());
        connector.setPort(config.listen().port());
        server.addConnector(connector);
        Optional<ServerConnector> https = config.listen().tls()
                .map(tls -> HttpsConnector.create(server, http, tls, config.listen().bind()));
        https.ifPresent(server::addConnector);

        ServletContextHandler context = new ServletContextHandler("/");
        context.addFilter(new FilterHolder(new RequestIdFilter(config.operations().trustRequestId())), "/*",
                EnumSet.of(DispatcherType.REQUEST));
        ServletHolder cgi = new ServletHolder("cgi", new JettyCgiServlet(kiln));
        cgi.setAsyncSupported(true); // a stalled upload's rest is waited for without a request thread
        for (Route route : kiln.host().settings().routes()) {
            context.addServlet(cgi, route.prefix() + "/*");
        }
        for (KilnConfig.Alias alias : config.routes().statics()) {
            context.addServlet(StaticFiles.holder(alias, kiln.folders().roots()), alias.mapping());
        }
        context.addServlet(new ServletHolder("status", new StatusServlet(kiln)), "/kiln/status");
        ServletHolder health = new ServletHolder("health", new HealthServlet(kiln));
        context.addServlet(health, "/kiln/health");
        context.addServlet(health, "/kiln/ready");
        context.addServlet(new ServletHolder("metrics", new MetricsServlet(kiln)), "/kiln/metrics");
        context.addServlet(new ServletHolder("status-page", new StatusPage(kiln)), "/kiln/");
        context.addServlet(new ServletHolder("index", new IndexServlet(kiln)), "");
        KilnErrorHandler errors = new KilnErrorHandler();
        server.setErrorHandler(errors);
        context.setErrorHandler(errors);
        boolean redirect = config.listen().tls().map(KilnConfig.Tls::redirect).orElse(false);
        GracefulHandler graceful = new GracefulHandler(redirect
                ? new SecuredRedirectHandler(context, HttpStatus.PERMANENT_REDIRECT_308) : context);
        server.setHandler(graceful);
        if (config.operations().accessLog()) {
            server.setRequestLog(new AccessLog());
        }
        server.setStopAtShutdown(false);
        try {
            server.start();
        } catch (IOException e) {
            server.stop();
            throw e;
        }
        // the port HTTPS really got (https-port 0 picks one), for redirects and SERVER_PORT of forwarded https
        https.ifPresent(c -> http.setSecurePort(c.getLocalPort()));
        kiln.startServing();
        return new KilnServer(server, connector, https, graceful, kiln);
    }

    public int port() {
        return connector.getLocalPort();
    }

    /** The HTTPS port, when tls-cert is set. */
    public Optional<Integer> httpsPort() {
        return https.map(ServerConnector::getLocalPort);
    }

    public Kiln kiln() {
        return kiln;
    }

    /** Waits for Jetty to stop and, when a close() stopped it, for close() to finish its last step and line. */
    public void join() throws InterruptedException {
        jetty.join();
        if (closed.get()) {
            stopped.await(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Stops accepting requests (readiness fails first), lets running scripts finish for up to shutdown-grace,
     * stops the rest (SIGTERM, then SIGKILL; a client still waiting for headers gets a clean 503), lets Jetty
     * finish every response in flight, and logs each step: no script outlives the server. Runs once.
     */
    @Override
    public void close() throws Exception {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        long start = System.nanoTime();
        Duration grace = kiln.config().timeouts().shutdownGrace();
        kiln.beginStopping();
        LOG.info("stopping: no new connections; {} scripts running, waiting up to {} s (shutdown-grace) for them",
                kiln.runningNow().size(), grace.toMillis() / 1000.0);
        try {
            connector.close();
            https.ifPresent(ServerConnector::close);
            kiln.awaitIdle(grace);
            int left = kiln.runningNow().size();
            if (left > 0) {
                LOG.warn("stopping {} scripts still running after shutdown-grace {} s; fix: raise shutdown-grace if "
                        + "they need longer", left, grace.toMillis() / 1000.0);
            }
        } finally {
            try {
                kiln.close();
                // every response in flight (a script's, or a 503 for one stopped above) is finished, not cut
                graceful.shutdown().get(kiln.config().timeouts().killGrace().toMillis() + 5000, TimeUnit.MILLISECONDS);
            } finally {
                try {
                    jetty.stop();
                    LOG.info("Kiln stopped in {} ms", (System.nanoTime() - start) / 1_000_000);
                } finally {
                    stopped.countDown();
                }
            }
        }
    }
}
