package dev.kiln.web;

import java.io.IOException;

import jakarta.servlet.ServletException;
import jakarta.servlet.UnavailableException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.Kiln;
import dev.kiln.cgi.CgiHost;
import dev.kiln.config.ConfigException;

/**
 * Maps {@code /cgi-bin/*} to Kiln's CGI host. Standalone, it is handed the assembled {@link Kiln}; in a WAR it
 * builds one in {@link #init()} from its init-params (Tomcat CGIServlet names accepted) and shares it with the
 * other servlets through a context attribute.
 */
public class CgiServlet extends HttpServlet {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.web");
    public static final String ATTRIBUTE = Kiln.class.getName();

    private transient Kiln kiln;
    private transient boolean owned;

    /** For the WAR: the container calls {@link #init()}. */
    public CgiServlet() {
    }

    /** For the standalone server. */
    public CgiServlet(Kiln kiln) {
        this.kiln = kiln;
    }

    @Override
    public void init() throws ServletException {
        if (kiln != null) {
            getServletContext().setAttribute(ATTRIBUTE, kiln);
            return;
        }
        try {
            kiln = WarConfig.build(getServletConfig());
            owned = true;
            kiln.checkScriptUser();
            getServletContext().setAttribute(ATTRIBUTE, kiln);
            kiln.logStartup(null);
            kiln.startServing();
        } catch (ConfigException e) {
            LOG.error("Kiln cannot start: {}", e.getMessage());
            if (kiln != null) {
                kiln.close(); // no destroy() follows a failed init()
                kiln = null;
            }
            throw new UnavailableException("Kiln configuration: " + e.getMessage());
        } catch (IOException e) {
            LOG.error("Kiln cannot start: {}", e.toString());
            throw new UnavailableException("Kiln start-up failed: " + e.getMessage());
        }
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
        long start = System.nanoTime();
        try {
            kiln.host().serve(req, resp);
        } finally {
            kiln.metrics().record((String) req.getAttribute(CgiHost.SCRIPT_ATTRIBUTE), resp.getStatus(),
                    System.nanoTime() - start);
        }
    }

    @Override
    public void destroy() {
        if (owned && kiln != null) {
            kiln.close();
        }
    }
}
