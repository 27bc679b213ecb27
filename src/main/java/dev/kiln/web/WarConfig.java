package dev.kiln.web;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

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
 * Kiln's configuration inside a servlet container, in the order the standalone server reads its sources (flag,
 * environment, file, default) with web.xml in the file's place: {@code KILN_*} environment variables, then
 * servlet init-params, then context init-params, then the webapp's defaults ({@link WebappFolders}). Tomcat
 * CGIServlet's parameter names are accepted with their meaning, so a web.xml written for Tomcat moves over.
 */
final class WarConfig {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.web");
    /** Tomcat names Kiln accepts but has no use for. */
    private static final Set<String> IGNORED = Set.of("debug", "parameterEncoding", "cmdLineArgumentsEncoded",
            "cmdLineArgumentsDecoded", "envHttpHeadersEncoded");
    /** Tomcat's init-param prefix for a variable given to every script. */
    private static final String TOMCAT_ENV_PREFIX = "environment-variable-";

    private WarConfig() {
    }

    static Kiln build(ServletConfig servlet) throws IOException {
        ServletContext ctx = servlet.getServletContext();
        Map<String, String> env = System.getenv();
        EnvironmentOptions fromEnv = EnvironmentOptions.of(env);
        if (fromEnv.warning() != null) {
            LOG.warn("{}", fromEnv.warning());
        }
        Map<String, String> servletParams = translate(params(servlet), ctx);
        Map<String, String> contextParams = translate(contextParams(ctx), ctx);
        Map<String, String> defaults = new HashMap<>();
        defaults.put(Option.REQUIRE_EXEC.key(), "false"); // a WAR is a zip: its files lose their execute bits
        boolean scriptsGiven = Stream.of(fromEnv.options(), servletParams, contextParams)
                .anyMatch(m -> m.containsKey(Option.SCRIPTS.key()));
        boolean cacheGiven = Stream.of(fromEnv.options(), servletParams, contextParams)
                .anyMatch(m -> m.containsKey(Option.CACHE.key()));
        if (!scriptsGiven || !cacheGiven) {
            String bundled = ctx.getRealPath("/WEB-INF/cgi-bin");
            WebappFolders folders = WebappFolders.of(ctx.getContextPath(), bundled == null ? null : Path.of(bundled),
                    tempDir(ctx), System.getProperty("catalina.base"));
            if (!scriptsGiven) {
                if (folders.scripts() == null) {
                    throw new ConfigException("the webapp is not unpacked, so WEB-INF/cgi-bin has no folder; fix: "
                            + (folders.outsideScripts() == null ? "" : "create " + folders.outsideScripts() + ", ")
                            + "deploy it unpacked (Tomcat unpackWARs=\"true\") or set the scripts init-param");
                }
                defaults.put(Option.SCRIPTS.key(), folders.scripts().toString());
                if (folders.scriptsInsideWebapp()) {
                    LOG.info("scripts: {}, inside the unpacked webapp, which the next deploy replaces; to keep "
                            + "scripts across deploys, create {} (used when present) or set the scripts init-param",
                            folders.scripts(), folders.outsideScripts());
                }
            }
            if (!cacheGiven) {
                defaults.put(Option.CACHE.key(), folders.cache().toString());
            }
        }
        KilnConfig config = KilnConfig.resolve(sources(fromEnv.options(), servletParams, contextParams, defaults), env);
        if (!config.routes().statics().isEmpty()) {
            LOG.warn("static is standalone only and ignored in a WAR; fix: let the container serve static files "
                    + "(the webapp's own files, or a PreResources folder in META-INF/context.xml; see the README)");
        }
        return new Kiln(config, env, tempDir(ctx));
    }

    /** The sources in precedence order, first wins: as standalone, a variable beats what a file (web.xml) says. */
    static List<KilnConfig.Source> sources(Map<String, String> environment, Map<String, String> servletParams,
            Map<String, String> contextParams, Map<String, String> defaults) {
        return List.of(new KilnConfig.Source("environment", environment),
                new KilnConfig.Source("servlet init-param", servletParams),
                new KilnConfig.Source("context init-param", contextParams),
                new KilnConfig.Source("webapp default", defaults));
    }

    private static Path tempDir(ServletContext ctx) {
        Object t = ctx.getAttribute(ServletContext.TEMPDIR);
        return t instanceof File f ? f.toPath() : Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** The option trust-request-id for the request-id filter: the environment, else its init-param. */
    static boolean trustRequestId(FilterConfig filter) {
        String v = System.getenv(Option.TRUST_REQUEST_ID.envName());
        if (v == null) {
            v = filter.getInitParameter(Option.TRUST_REQUEST_ID.key());
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
                    if (name.startsWith(TOMCAT_ENV_PREFIX) && name.length() > TOMCAT_ENV_PREFIX.length()) {
                        out.put("env." + name.substring(TOMCAT_ENV_PREFIX.length()), value); // as env.NAME
                    } else if (name.matches("executable-arg-\\d+")) {
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
