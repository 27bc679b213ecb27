/**
 * Thin servlets: /cgi-bin/* hands each request to the CGI host; the index; the status page, JSON and
 * metrics; health and readiness; the request-id filter.
 * Shared by the embedded Jetty and by Tomcat through the WAR; no protocol logic lives here.
 * May import dev.kiln, cgi, cache, config, forkserver (its status), jvm (its status), metrics, python and run (its
 * status).
 */
package dev.kiln.web;
