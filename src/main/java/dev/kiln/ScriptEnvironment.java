package dev.kiln;

import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cgi.CgiEnvironment;
import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.Option;

/** The variables every script starts from, as configured: checked once at start. */
final class ScriptEnvironment {
    private static final Logger LOG = LoggerFactory.getLogger("kiln");

    private ScriptEnvironment() {
    }

    /** The variables every script starts from; a configured one that each request replaces is refused. */
    static Map<String, String> of(KilnConfig.Protocol protocol, Map<String, String> hostEnv) {
        for (String name : protocol.env().keySet()) {
            if (name.equals("DOCUMENT_ROOT")) {
                throw new ConfigException("env sets DOCUMENT_ROOT, which Kiln sets for every request; fix: use "
                        + "--document-root DIR");
            }
            if (CgiEnvironment.REQUEST_VARIABLES.contains(name)) {
                throw new ConfigException("env sets " + name + ", a meta-variable Kiln sets for every request "
                        + "(RFC 3875), so no script would see it; fix: take it out of env");
            }
        }
        Map<String, String> env = CgiEnvironment.base(protocol.passEnv(), protocol.env(), hostEnv);
        if (!env.containsKey("PATH")) {
            LOG.warn("scripts get no PATH (pass-env {} leaves it out); fix: --pass-env +NAME,... adds names to the "
                    + "default list, {}", String.join(",", protocol.passEnv()), Option.PASS_ENV.defaultValue());
        }
        return env;
    }
}
