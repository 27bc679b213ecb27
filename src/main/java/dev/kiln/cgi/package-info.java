/**
 * The CGI/1.1 protocol (RFC 3875): URL to script, the plan, the environment, the header block, the response.
 * {@link dev.kiln.cgi.CgiHost#serve} is one request top to bottom; servlets only call it.
 * May import dev.kiln.run and the servlet API; never python, cache, config, web or server.
 */
package dev.kiln.cgi;
