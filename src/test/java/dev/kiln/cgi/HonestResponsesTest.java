package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.LogCapture;

/**
 * A response the script did not finish is aborted (no final chunk, connection closed), never made to look
 * complete; a Content-Length that does not match the body is a 502 while nothing is sent yet, an abort after.
 */
class HonestResponsesTest extends LimitsFixture {
    /** Everything the server sends until it closes, and whether it closed or reset the connection. */
    private String wholeAnswer(String path) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", quick.port()), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    all.write(buf, 0, n);
                }
            } catch (IOException reset) {
                // an abort may come as a reset
            }
            return all.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void aScriptKilledByASignalMidResponseGivesAnAbortedResponse() throws Exception {
        String t = tag();
        quick.script("honest/killed-" + t + ".py", "#!" + PY + "\n"
                + "import os, signal, sys, time\n"
                + "sys.stdout.write('Content-Type: text/plain\\n\\n')\n"
                + "for i in range(200):\n"
                + "    sys.stdout.write('line %d\\n' % i)\n"
                + "    if i == 3:\n"
                + "        sys.stdout.flush(); time.sleep(0.3); os.kill(os.getpid(), signal.SIGKILL)\n");
        String path = "/cgi-bin/honest/killed-" + t + ".py";
        try (LogCapture logs = LogCapture.capture("kiln.cgi")) {
            String answer = wholeAnswer(path);
            assertThat(answer).startsWith("HTTP/1.1 200").contains("line 3\n").doesNotContain("line 4");
            assertThat(answer).as("no final chunk: the client can tell the response is cut").doesNotEndWith("0\r\n\r\n");
            assertThat(logs.await(3000, path, "response aborted", "killed by SIGKILL, not by Kiln")).as(String.join("\n", logs.lines()))
                    .singleElement().satisfies(l -> assertThat(l).startsWith("WARN"));
        }
    }

    /** A script Kiln kills for lingering after it closed stdout had finished its answer: that one is whole. */
    @Test
    void aScriptKilledForLingeringAfterItsOutputGivesACompleteResponse() throws Exception {
        String t = tag();
        quick.script("honest/linger-" + t + ".sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nlingering\\n'\n"
                + "exec 1>&-\nsleep 300." + t + "\n");
        HttpResponse<String> r = quick.get("/cgi-bin/honest/linger-" + t + ".sh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("lingering\n");
    }

    @Test
    void aContentLengthThatDoesNotMatchASmallBodyIs502() throws Exception {
        String t = tag();
        quick.script("honest/short-" + t + ".sh", "#!/bin/sh\nprintf 'Content-Length: 100\\n\\nonly ten b'\n");
        quick.script("honest/long-" + t + ".sh", "#!/bin/sh\nprintf 'Content-Length: 3\\n\\nmuch more than three'\n");
        quick.script("honest/exact-" + t + ".sh", "#!/bin/sh\nprintf 'Content-Length: 5\\n\\nexact'\n");
        try (LogCapture logs = LogCapture.capture("kiln.cgi")) {
            for (String name : new String[] {"short", "long"}) {
                String path = "/cgi-bin/honest/" + name + "-" + t + ".sh";
                HttpResponse<String> r = quick.get(path);
                assertThat(r.statusCode()).as(name).isEqualTo(502);
                assertShortErrorPage(r, 502, path);
                assertThat(logs.await(3000, path, "502", "Content-Length")).as(String.join("\n", logs.lines()))
                        .hasSize(1);
            }
        }
        HttpResponse<String> exact = quick.get("/cgi-bin/honest/exact-" + t + ".sh");
        assertThat(exact.statusCode()).isEqualTo(200);
        assertThat(exact.body()).isEqualTo("exact");
    }

    @Test
    void aLargeBodyShortOfItsContentLengthIsAborted() throws Exception {
        String t = tag();
        quick.script("honest/big-" + t + ".sh", "#!/bin/sh\nprintf 'Content-Length: 500000\\n\\n'\n"
                + "head -c 300000 /dev/zero\n");
        String path = "/cgi-bin/honest/big-" + t + ".sh";
        try (LogCapture logs = LogCapture.capture("kiln.cgi")) {
            String answer = wholeAnswer(path);
            assertThat(answer).startsWith("HTTP/1.1 200").contains("Content-Length: 500000");
            assertThat(answer.length() - answer.indexOf("\r\n\r\n") - 4).isEqualTo(300_000);
            assertThat(logs.await(3000, path, "response aborted", "Content-Length")).hasSize(1);
        }
    }
}
