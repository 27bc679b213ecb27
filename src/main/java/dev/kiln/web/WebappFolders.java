package dev.kiln.web;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a webapp's scripts and cache are when no option names them. Tomcat owns the unpacked webapp and the
 * context's work folder: a redeploy deletes both, with any scripts copied into the one and the cache in the
 * other. So inside Tomcat (the system property {@code catalina.base} is set) both default to
 * {@code ${catalina.base}/kiln/<context>/}, which no deploy touches: the scripts to its {@code cgi-bin} when an
 * operator has made that folder (else the webapp's own {@code WEB-INF/cgi-bin}, as shipped), the cache to its
 * {@code cache}. Elsewhere, or when that folder cannot be made, they stay in the webapp and its temporary folder.
 */
record WebappFolders(Path scripts, Path cache, Path outsideScripts) {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.web");

    /** The scripts are the webapp's own, which the next deploy replaces, though a folder outside it could be made. */
    boolean scriptsInsideWebapp() {
        return outsideScripts != null && !scripts.equals(outsideScripts);
    }

    /**
     * @param contextPath the context's path ("" for the root context)
     * @param bundled the webapp's WEB-INF/cgi-bin, or null when the webapp is not unpacked
     * @param tempDir the context's temporary folder
     * @param catalinaBase the system property catalina.base, or null outside Tomcat
     */
    static WebappFolders of(String contextPath, Path bundled, Path tempDir, String catalinaBase) {
        Path fallbackCache = tempDir.resolve("kiln-cache");
        if (catalinaBase == null || catalinaBase.isBlank()) {
            return new WebappFolders(bundled, fallbackCache, null);
        }
        Path own = Path.of(catalinaBase, "kiln", contextName(contextPath));
        Path outside = own.resolve("cgi-bin");
        Path scripts = Files.isDirectory(outside) ? outside : bundled;
        Path cache = own.resolve("cache");
        try {
            Files.createDirectories(own);
        } catch (IOException e) {
            LOG.warn("cache {} cannot be created ({}); using {}, which every redeploy empties; fix: let Tomcat's "
                    + "user create {} or set the cache init-param", cache, e.toString(), fallbackCache, own);
            cache = fallbackCache;
        }
        return new WebappFolders(scripts, cache, outside);
    }

    /** Tomcat's base name for a context: ROOT for the root, a#b for /a/b. */
    static String contextName(String contextPath) {
        String p = contextPath.startsWith("/") ? contextPath.substring(1) : contextPath;
        return p.isEmpty() ? "ROOT" : p.replace('/', '#');
    }
}
