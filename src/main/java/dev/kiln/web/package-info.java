/**
 * Thin servlets: /cgi-bin/* hands each request to the CGI host; the index page; the status JSON.
 * Shared by the embedded Jetty and by Tomcat through the WAR; no protocol logic lives here.
 * May import dev.kiln, cgi, cache, config, forkserver (its status), metrics and python.
 */
package dev.kiln.web;
