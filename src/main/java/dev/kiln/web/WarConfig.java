package dev.kiln.web;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.Kiln;
import dev.kiln.config.ConfigException;
import dev.kiln.config.EnvironmentOptions;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.Option;

/**
 * Kiln's configuration inside a servlet container: servlet init-params, then context init-params, then
 * {@code KILN_*} environment variables, then defaults. Tomcat CGIServlet's parameter names are accepted with
 * their meaning, so a web.xml written for Tomcat moves over.
 */
final class WarConfig {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.web");
    /** Tomcat names Kiln accepts but has no use for. */
    private static final Set<String> IGNORED = Set.of("debug", "parameterEncoding", "cmdLineArgumentsEncoded",
            "cmdLineArgumentsDecoded", "envHttpHeadersEncoded");

    private WarConfig() {
    }

    static Kiln build(ServletConfig servlet) throws IOException {
        ServletContext ctx = servlet.getServletContext();
        Map<String, String> env = System.getenv();
        List<KilnConfig.Source> sources = new ArrayList<>();
        sources.add(new KilnConfig.Source("servlet init-param", translate(params(servlet), ctx)));
        sources.add(new KilnConfig.Source("context init-param", translate(contextParams(ctx), ctx)));
        EnvironmentOptions fromEnv = EnvironmentOptions.of(env);
        if (fromEnv.warning() != null) {
            LOG.warn("{}", fromEnv.warning());
        }
        sources.add(new KilnConfig.Source("environment", fromEnv.options()));
        sources.add(new KilnConfig.Source("webapp default", webappDefaults(ctx, env)));
        KilnConfig config = KilnConfig.resolve(sources, env);
        if (!config.routes().statics().isEmpty()) {
            LOG.warn("static is standalone only and ignored in a WAR; fix: let the container serve static files "
                    + "(the webapp's own files, or a PreResources folder in META-INF/context.xml; see the README)");
        }
        return new Kiln(config, env, tempDir(ctx));
    }

    private static Map<String, String> webappDefaults(ServletContext ctx, Map<String, String> env) {
        Map<String, String> d = new HashMap<>();
        String scripts = ctx.getRealPath("/WEB-INF/cgi-bin");
        if (scripts == null) {
            throw new ConfigException("the webapp is not unpacked, so WEB-INF/cgi-bin has no folder; fix: deploy "
                    + "kiln.war unpacked (Tomcat unpackWARs=\"true\") or set the scripts init-param");
        }
        d.put(Option.SCRIPTS.key(), scripts);
        d.put(Option.CACHE.key(), tempDir(ctx).resolve("kiln-cache").toString());
        d.put(Option.REQUIRE_EXEC.key(), "false"); // a WAR is a zip: its files lose their execute bits
        return d;
    }

    private static Path tempDir(ServletContext ctx) {
        Object t = ctx.getAttribute(ServletContext.TEMPDIR);
        return t instanceof File f ? f.toPath() : Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** The option trust-request-id for the request-id filter: its init-param, else the environment. */
    static boolean trustRequestId(FilterConfig filter) {
        String v = filter.getInitParameter(Option.TRUST_REQUEST_ID.key());
        if (v == null) {
            v = System.getenv(Option.TRUST_REQUEST_ID.envName());
        }
        return v != null && Boolean.parseBoolean(v.trim());
    }

    /** Kiln names pass as they are; Tomcat CGIServlet names are translated. */
    static Map<String, String> translate(Map<String, String> params, ServletContext ctx) {
        Map<String, String> out = new LinkedHashMap<>();
        SortedMap<Integer, String> executableArgs = new TreeMap<>(); // executable-arg-N, by N
        for (Map.Entry<String, String> e : params.entrySet()) {
            String name = e.getKey();
            String value = e.getValue();
            switch (name) {
                case "cgiPathPrefix" -> {
                    String real = ctx.getRealPath("/" + value.replaceFirst("^/+", ""));
                    if (real == null) {
                        throw new ConfigException("cgiPathPrefix '" + value + "' has no folder in the webapp");
                    }
                    out.put(Option.SCRIPTS.key(), real);
                }
                case "passShellEnvironment" -> {
                    if (Boolean.parseBoolean(value.trim())) {
                        out.put(Option.PASS_ENV.key(), "*");
                    }
                }
                case "envHttpHeaders" -> out.put(Option.ENV_HTTP_HEADERS.key(), value);
                case "stderrTimeout" -> out.put(Option.STDERR_TIMEOUT.key(), value.trim() + "ms");
                case "cgiMethods" -> out.put(Option.METHODS.key(), value);
                case "enableCmdLineArguments" -> out.put(Option.CMD_LINE_ARGS.key(), value);
                default -> {
                    if (name.matches("executable-arg-\\d+")) {
                        executableArgs.put(Integer.parseInt(name.substring("executable-arg-".length())), value);
                    } else if (IGNORED.contains(name)) {
                        LOG.info("init-param {} is a Tomcat CGIServlet option Kiln does not need; ignored", name);
                    } else if (Option.byKey(name).isPresent() || name.equals("executable")) {
                        out.put(name, value);
                    } else if (name.startsWith("org.") || name.startsWith("jakarta.")) {
                        // container-owned parameters
                    } else {
                        out.put(name, value); // unknown: KilnConfig.resolve names it in its error
                    }
                }
            }
        }
        if (!executableArgs.isEmpty()) {
            out.merge(Option.EXECUTABLE.key(), String.join(" ", executableArgs.values()), (a, b) -> a + " " + b);
        }
        return out;
    }

    private static Map<String, String> params(ServletConfig c) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String n : Collections.list(c.getInitParameterNames())) {
            m.put(n, c.getInitParameter(n));
        }
        return m;
    }

    private static Map<String, String> contextParams(ServletContext c) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String n : Collections.list(c.getInitParameterNames())) {
            m.put(n, c.getInitParameter(n));
        }
        return m;
    }
}
