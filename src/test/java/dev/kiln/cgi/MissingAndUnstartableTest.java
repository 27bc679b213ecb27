package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.LogCapture;

/** A script that is not there is a 404; one that cannot start is a 500 with its cause and fix logged. */
class MissingAndUnstartableTest extends LimitsFixture {
    @Test
    void missingScriptIs404() throws Exception {
        String missing = "/cgi-bin/missing-" + tag() + ".sh/extra";
        HttpResponse<String> r = quick.get(missing);
        assertThat(r.statusCode()).isEqualTo(404);
        assertShortErrorPage(r, 404, missing);
    }

    @Test
    void unstartableScriptIs500WithTheCauseLogged() throws Exception {
        String t = tag();
        String interpreter = "/nonexistent/kiln-interp-" + t;
        quick.script("bad/nointerp-" + t + ".sh", "#!" + interpreter + "\necho 'Content-Type: text/plain'\n");
        String path = "/cgi-bin/bad/nointerp-" + t + ".sh";
        try (LogCapture logs = LogCapture.capture()) {
            HttpResponse<String> r = quick.get(path);
            assertThat(r.statusCode()).isEqualTo(500);
            assertShortErrorPage(r, 500, path);
            List<String> lines = logs.await(3000, path, "500", interpreter);
            assertThat(lines).as(logs.lines().toString()).hasSize(1);
            assertThat(lines.get(0)).matches("(?s)(WARN|ERROR) .*").contains("not an executable file").contains("fix:")
                    .doesNotContain("\n");
        }
    }
}
