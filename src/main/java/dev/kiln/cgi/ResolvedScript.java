package dev.kiln.cgi;

import java.nio.file.Path;

/**
 * A request path split the CGI way.
 *
 * @param file       the script, a regular file inside the scripts folder (real path)
 * @param scriptPath the URL path segments that named the script, e.g. {@code /sub/app.py}
 * @param pathInfo   what followed the script in the URL path (decoded), empty or starting with {@code /}
 */
public record ResolvedScript(Path file, String scriptPath, String pathInfo) {
}
