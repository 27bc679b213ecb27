package dev.kiln.server;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;

import dev.kiln.Kiln;
import dev.kiln.config.ConfigException;
import dev.kiln.config.EnvironmentOptions;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.Option;

/** {@code java -jar kiln.jar}: parses options, then serves, precompiles or prunes; exits with an {@link ExitCode}. */
public final class KilnMain {
    private KilnMain() {
    }

    public static void main(String[] args) {
        // A broken logging configuration is reported in one line below, not as logback's own status dump.
        if (System.getProperty("logback.statusListenerClass") == null) {
            System.setProperty("logback.statusListenerClass", "ch.qos.logback.core.status.NopStatusListener");
        }
        // Starting a script is Kiln's hot path: vfork skips the jspawnhelper exec posix_spawn needs (0.75
        // against 1.3 ms per spawn measured here on JDK 17 and 25). JDK 25 deprecates vfork with a warning on
        // stderr, and its posix_spawn, unlike vfork, clears the blocked-signal mask: there the default stays.
        // An explicit -Djdk.lang.Process.launchMechanism wins.
        if (System.getProperty("jdk.lang.Process.launchMechanism") == null && Runtime.version().feature() < 25) {
            System.setProperty("jdk.lang.Process.launchMechanism", "VFORK");
        }
        run(args, System.getenv(), System.out, System.err).ifPresent(code -> System.exit(code.code()));
    }

    /** @return the exit code, or empty when the server is running (the caller must not exit) */
    static Optional<ExitCode> run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        CommandLine cli;
        List<KilnConfig.Source> sources;
        KilnConfig config;
        try {
            cli = CommandLine.parse(args);
            if (cli.help()) {
                out.print(CommandLine.usage());
                return Optional.of(ExitCode.OK);
            }
            if (cli.version()) {
                out.println("kiln " + Kiln.VERSION);
                return Optional.of(ExitCode.OK);
            }
            sources = sources(cli, env);
            String unknown = EnvironmentOptions.of(env).warning();
            if (unknown != null) {
                LoggerFactory.getLogger("kiln").warn("{}", unknown);
            }
            config = KilnConfig.resolve(sources, env);
        } catch (ConfigException e) {
            err.println("kiln: " + e.getMessage());
            return Optional.of(ExitCode.USAGE);
        }
        setLogLevel(config.operations().logLevel());
        Optional<String> logs = LogFiles.problem();
        if (logs.isPresent()) {
            err.println("kiln: " + logs.get());
            return Optional.of(ExitCode.FAILURE);
        }
        Logger log = LoggerFactory.getLogger("kiln");
        try {
            return switch (cli.command()) {
                case PRECOMPILE -> Optional.of(Commands.precompile(config, env, out));
                case PRUNE -> Optional.of(Commands.prune(config, env, out));
                case CONFIG -> Optional.of(Commands.config(KilnConfig.explain(sources, env), config,
                        env.getOrDefault("PATH", "/usr/bin:/bin"), out));
                case SERVE -> serve(config, new Lifecycle.Reread(cli, env, KilnConfig.explain(sources, env)), log);
            };
        } catch (ConfigException e) {
            err.println("kiln: " + e.getMessage());
            return Optional.of(ExitCode.USAGE);
        } catch (Exception e) {
            if (bindFailure(e) != null) {
                KilnConfig.Listen listen = config.listen();
                err.println("kiln: cannot listen on " + listen.bind() + ":" + listen.port() + ": "
                        + bindFailure(e).getMessage().toLowerCase(Locale.ROOT) + "; fix: stop what uses port "
                        + listen.port() + " (ss -ltnp 'sport = :" + listen.port() + "' shows it) or choose another "
                        + "--port");
                return Optional.of(ExitCode.FAILURE);
            }
            log.error("kiln could not start: {}", e.toString());
            return Optional.of(ExitCode.FAILURE);
        }
    }

    /** The BindException under Jetty's wrapping, or null. */
    private static BindException bindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException b) {
                return b;
            }
        }
        return null;
    }

    /** Starts the server; it runs until the JVM is stopped, so there is no exit code yet. */
    private static Optional<ExitCode> serve(KilnConfig config, Lifecycle.Reread reread, Logger log)
            throws Exception {
        KilnServer server = KilnServer.start(config, reread.env());
        String bind = config.listen().bind();
        String host = bind.equals("0.0.0.0") || bind.isEmpty() ? "localhost" : bind;
        server.kiln().logStartup("http://" + host + ":" + server.port() + "/");
        server.httpsPort().ifPresent(port -> log.info("serving https://{}:{}/ (HTTP/2 and HTTP/1.1){}", host, port,
                config.listen().tls().orElseThrow().redirect() ? "; plain HTTP redirects there" : ""));
        if (!config.listen().trustedProxies().isEmpty()) {
            log.info("trusted proxies: {} (their Forwarded and X-Forwarded-* headers name the client)",
                    config.listen().trustedProxies());
        }
        Lifecycle.install(server, reread);
        // any other exit still stops every script: close() runs once, whoever calls it first
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                log.warn("error while stopping: {}", e.toString());
            }
        }, "kiln-shutdown"));
        return Optional.empty();
    }

    /** Flags, then KILN_* environment variables, then the properties file, then defaults. */
    static KilnConfig resolve(CommandLine cli, Map<String, String> env) {
        return KilnConfig.resolve(sources(cli, env), env);
    }

    /** The sources of option values, first wins. */
    static List<KilnConfig.Source> sources(CommandLine cli, Map<String, String> env) {
        List<KilnConfig.Source> sources = new ArrayList<>();
        sources.add(new KilnConfig.Source("command line", without(cli.options(), Option.CONFIG)));
        sources.add(new KilnConfig.Source("environment", EnvironmentOptions.of(env).options()));
        String explicit = cli.options().getOrDefault(Option.CONFIG.key(), env.get(Option.CONFIG.envName()));
        Path file = Path.of(explicit != null ? explicit : Option.CONFIG.defaultValue());
        if (Files.isRegularFile(file)) {
            sources.add(new KilnConfig.Source(file.toString(), properties(file)));
        } else if (explicit != null) {
            throw new ConfigException("config file " + file + " does not exist (from --config or KILN_CONFIG)");
        }
        return sources;
    }

    private static Map<String, String> properties(Path file) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in); // UTF-8, not Properties' ISO-8859-1: values reach scripts as written
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        Map<String, String> out = new HashMap<>();
        for (String name : p.stringPropertyNames()) {
            if (name.equals(Option.CONFIG.key())) {
                throw new ConfigException("config file " + file + " cannot name another config file");
            }
            out.put(name, p.getProperty(name));
        }
        return out;
    }

    static void setLogLevel(String level) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logback) {
            logback.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.toLevel(level));
        }
    }

    private static Map<String, String> without(Map<String, String> m, Option o) {
        Map<String, String> copy = new HashMap<>(m);
        copy.remove(o.key());
        return copy;
    }
}
