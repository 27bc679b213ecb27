/**
 * The standalone jar: command line, the embedded Jetty 12 server, the precompile and prune commands.
 * Builds a {@link dev.kiln.Kiln} and mounts the web servlets; nothing here runs in a WAR.
 * May import every dev.kiln package.
 */
package dev.kiln.server;
