package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The README's worked example of a move from Tomcat's CGIServlet ({@code /migrated}, see {@link ExistingWebapps}):
 * its web.xml block, as written there, in a real Tomcat.
 */
@ExtendWith(SharedTomcat.class)
class TomcatMigrationIT {
    private final TomcatServer tomcat;

    TomcatMigrationIT(TomcatServer shared) {
        this.tomcat = shared;
    }

    @Test
    void theScriptsRunFromCgiPathPrefixWithTheirEnvironmentVariable() throws Exception {
        HttpResponse<String> r = tomcat.get("/migrated/cgi-bin/report.sh?month=11");
        assertThat(r.statusCode()).as(tomcat.describe(r)).isEqualTo(200);
        assertThat(r.body()).isEqualTo("Monthly report for month=11\n"
                + tomcat.real("webapps/migrated/WEB-INF/cgi/report.sh") + "\n");
    }

    @Test
    void cgiMethodsStillLimitTheMethods() throws Exception {
        HttpResponse<String> put = tomcat.send(tomcat.request("/migrated/cgi-bin/report.sh")
                .PUT(HttpRequest.BodyPublishers.ofString("x")).build());
        assertThat(put.statusCode()).as(tomcat.describe(put)).isEqualTo(405);
        HttpResponse<String> post = tomcat.send(tomcat.request("/migrated/cgi-bin/report.sh?q")
                .POST(HttpRequest.BodyPublishers.ofString("x")).build());
        assertThat(post.statusCode()).as(tomcat.describe(post)).isEqualTo(200);
    }
}
