/**
 * One assembled Kiln ({@link dev.kiln.Kiln}): configuration, cache, interpreters and the CGI host, wired once.
 * The only place that knows every package; the standalone server and the WAR both build it.
 * May import every dev.kiln package.
 */
package dev.kiln;
