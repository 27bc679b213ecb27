package dev.kiln.server;

import java.io.IOException;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.eclipse.jetty.io.EofException;

import dev.kiln.Kiln;
import dev.kiln.cgi.ResponseAborted;
import dev.kiln.web.CgiServlet;

/**
 * The CGI servlet as the standalone Jetty runs it: an aborted response reaches Jetty as its own quiet
 * end-of-file, so Jetty closes the connection without ending the response and without a second log line
 * (Kiln has logged the cause).
 */
final class JettyCgiServlet extends CgiServlet {
    JettyCgiServlet(Kiln kiln) {
        super(kiln);
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
        try {
            super.service(req, resp);
        } catch (ResponseAborted e) {
            throw new EofException(e.getMessage());
        }
    }
}
