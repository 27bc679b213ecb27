package dev.kiln.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import sun.misc.Signal;

import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.Option;

/**
 * What signals do to the standalone server (through jdk.unsupported's sun.misc.Signal: no native code).
 * SIGHUP ({@code systemctl reload}) reads the configuration again and applies what can change while Kiln runs,
 * logging what changed and what needs a restart; SIGTERM and SIGINT stop gracefully and exit 0.
 */
final class Lifecycle {
    private static final Logger LOG = LoggerFactory.getLogger("kiln");

    /** How to read the configuration again: the same flags and environment, the file as it is now. */
    record Reread(CommandLine cli, Map<String, String> env, List<KilnConfig.Setting> atStart) {
    }

    private final KilnServer server;
    private final Reread reread;
    private List<KilnConfig.Setting> current;

    private Lifecycle(KilnServer server, Reread reread) {
        this.server = server;
        this.reread = reread;
        this.current = reread.atStart();
    }

    static void install(KilnServer server, Reread reread) {
        Lifecycle life = new Lifecycle(server, reread);
        Signal.handle(new Signal("HUP"), s -> life.reload());
        Signal.handle(new Signal("TERM"), s -> life.stop("SIGTERM"));
        Signal.handle(new Signal("INT"), s -> life.stop("SIGINT"));
    }

    synchronized void reload() {
        try {
            List<KilnConfig.Source> sources = KilnMain.sources(reread.cli(), reread.env());
            KilnConfig next = KilnConfig.resolve(sources, reread.env());
            List<KilnConfig.Setting> now = KilnConfig.explain(sources, reread.env());
            List<String> applied = new ArrayList<>();
            List<String> restart = new ArrayList<>();
            for (int i = 0; i < now.size(); i++) {
                KilnConfig.Setting before = current.get(i);
                KilnConfig.Setting after = now.get(i);
                if (!before.value().equals(after.value())) {
                    String change = after.option().key() + " " + shown(before) + " -> " + shown(after);
                    (KilnConfig.RELOADABLE.contains(after.option()) ? applied : restart).add(change);
                }
            }
            server.kiln().reload(next);
            KilnMain.setLogLevel(next.operations().logLevel());
            current = now;
            LOG.info("SIGHUP: configuration read again; {}; {}",
                    applied.isEmpty() ? "nothing to apply" : "applied " + String.join(", ", applied),
                    restart.isEmpty() ? "nothing needs a restart"
                            : "needs a restart, not applied: " + String.join(", ", restart));
        } catch (ConfigException e) {
            LOG.error("SIGHUP: configuration refused, the running one stays: {}", e.getMessage());
        }
    }

    private static String shown(KilnConfig.Setting s) {
        if (s.option() == Option.STATUS_TOKEN && !s.value().isEmpty()) {
            return "(secret)";
        }
        return s.value().isEmpty() ? "(empty)" : s.value();
    }

    private void stop(String signal) {
        LOG.info("{}: shutting down", signal);
        // not on the signal's own thread, which is a daemon: the JVM would end as soon as Jetty's threads do,
        // before the shutdown's last steps and lines
        Thread stopper = new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                LOG.warn("error while stopping: {}", e.toString());
            }
            System.exit(0);
        }, "kiln-stop");
        stopper.setDaemon(false);
        stopper.start();
    }
}
