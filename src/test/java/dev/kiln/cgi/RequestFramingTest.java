package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.RawHttp;

/**
 * Request framing as RFC 9112 section 6 says: a body's length is never guessed, ambiguous framing (the stuff of
 * request smuggling) is a 400 before any script runs, and no error page names a Java exception or the server.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestFramingTest {
    private KilnTestServer kiln;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        kiln = KilnTestServer.builder(dir).start();
        kiln.script("redirect.sh", "#!/bin/sh\nprintf 'Location: %s\\n\\n' \"$QUERY_STRING\"\n");
        kiln.script("long.sh", "#!/bin/sh\nprintf 'Content-Length: 3\\n\\n'\nhead -c 200000 /dev/zero\n");
        kiln.script("echo.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\necho \"len=$CONTENT_LENGTH\"\ncat\n");
    }

    @AfterAll
    void stop() throws Exception {
        kiln.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "both lengths|Transfer-Encoding: chunked\\r\\nContent-Length: 5|400",
        "chunked not last|Transfer-Encoding: chunked, gzip|400",
        "chunked not final|Transfer-Encoding: gzip|400",
        "chunked twice|Transfer-Encoding: chunked\\r\\nTransfer-Encoding: chunked|400",
        "two lengths|Content-Length: 5\\r\\nContent-Length: 6|400",
        "length not a number|Content-Length: +5|400",
        "length list|Content-Length: 5, 5|400",
        "space before colon|Content-Length : 5|400",
        "folded header|X-Folded: a\\r\\n b\\r\\nContent-Length: 5|400",
    })
    void ambiguousFramingIs400(String name, String headers, int status) throws Exception {
        String head = headers.replace("\\r\\n", "\r\n");
        RawHttp.Reply r = RawHttp.exchange(kiln.port(), "POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: x\r\n" + head
                + "\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        assertThat(r.text()).doesNotContain("len=").doesNotContain("Exception").doesNotContainIgnoringCase("jetty");
    }

    /** Whatever goes wrong, the answer is a short page with a status: no exception name, no server name. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "redirect to a NUL|/cgi-bin/redirect.sh?/cgi-bin/a%00b",
        "redirect to overlong dots|/cgi-bin/redirect.sh?/cgi-bin/%c0%ae%c0%ae/x",
        "redirect to a bad escape|/cgi-bin/redirect.sh?/cgi-bin/%zz",
        "NUL in the path|/cgi-bin/a%00b",
        "bad escape in the path|/cgi-bin/%zz",
        "more than its length|/cgi-bin/long.sh",
    })
    void noAnswerNamesAnException(String name, String path) throws Exception {
        RawHttp.Reply r = RawHttp.get(kiln.port(), path);
        assertThat(r.status()).as(r.text()).isBetween(200, 599);
        assertThat(r.text()).doesNotContain("Exception").doesNotContainIgnoringCase("jetty")
                .doesNotContain("dev.kiln").doesNotContain("\tat ");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "HTTP/1.0 chunked|HTTP/1.0|Transfer-Encoding: chunked|400",
        "HTTP/1.0 length|HTTP/1.0|Content-Length: 5|200",
        "HTTP/1.1 chunked|HTTP/1.1|Transfer-Encoding: chunked|200",
    })
    void http10HasNoTransferCodings(String name, String version, String framing, int status) throws Exception {
        String body = framing.startsWith("Content-Length") ? "hello" : "5\r\nhello\r\n0\r\n\r\n";
        RawHttp.Reply r = RawHttp.exchange(kiln.port(), "POST /cgi-bin/echo.sh " + version + "\r\nHost: x\r\n"
                + framing + "\r\nConnection: close\r\n\r\n" + body);
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        if (status == 200) {
            assertThat(r.body()).isEqualTo("len=5\nhello");
        }
    }
}
