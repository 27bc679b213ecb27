package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.RawHttp;

/** Request bodies: streamed through whole, chunked or not; over max-body refused before the script runs. */
class RequestBodiesTest extends LimitsFixture {
    @Test
    void declaredBodyOverMaxBodyIs413WithoutRunningTheScript() throws Exception {
        String t = tag();
        quick.script("body/mark-" + t + ".sh", "#!/bin/sh\n"
                + "touch " + marks + "/ran-" + t + "-$QUERY_STRING\n"
                + "printf 'Content-Type: text/plain\\n\\nran\\n'\n");
        String path = "/cgi-bin/body/mark-" + t + ".sh";
        String answer = RawHttp.exchange(quick.port(), "POST " + path + "?big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: " + (MAX_BODY + 1) + "\r\n"
                + "Connection: close\r\n\r\n").text();
        assertThat(answer).startsWith("HTTP/1.1 413");
        assertThat(answer).contains("<html").contains("413").doesNotContainPattern(FILE_PATH);

        HttpResponse<String> small = quick.post(path + "?small", "text/plain", "tiny");
        assertThat(small.statusCode()).isEqualTo(200);
        assertThat(marks.resolve("ran-" + t + "-small")).exists(); // the marker works...
        assertThat(marks.resolve("ran-" + t + "-big")).doesNotExist(); // ...and the refused request never ran
    }

    /** Prints CONTENT_LENGTH, the bytes read and their MD5; leaves a mark named after the query first. */
    private String md5Script(String t) throws Exception {
        quick.script("body/md5-" + t + ".py", "#!" + PY + "\n"
                + "import hashlib, os, sys\n"
                + "open('" + marks + "/md5-" + t + "-' + os.environ.get('QUERY_STRING', ''), 'w').close()\n"
                + "data = sys.stdin.buffer.read()\n"
                + "print('Content-Type: text/plain\\n')\n"
                + "print(os.environ.get('CONTENT_LENGTH', '-'), len(data), hashlib.md5(data).hexdigest())\n");
        return "/cgi-bin/body/md5-" + t + ".py";
    }

    private HttpResponse<String> postChunked(String path, byte[] data) throws Exception {
        return quick.send(HttpRequest.newBuilder(quick.uri(path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(data))).build());
    }

    @Test
    void aChunkedBodyArrivesWithItsLength() throws Exception {
        String t = tag();
        String path = md5Script(t);
        byte[] data = randomBytes(300_000 + ThreadLocalRandom.current().nextInt(1000));
        HttpResponse<String> r = postChunked(path + "?small", data);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body().strip()).isEqualTo(data.length + " " + data.length + " " + hex("MD5", data));
        assertThat(marks.resolve("md5-" + t + "-small")).exists();
    }

    @Test
    void aChunkedBodyOverMaxBodyIs413WithoutRunningTheScript() throws Exception {
        String t = tag();
        String path = md5Script(t);
        HttpResponse<String> big = postChunked(path + "?big", new byte[(int) MAX_BODY + 512 * 1024]);
        assertThat(big.statusCode()).isEqualTo(413);
        assertShortErrorPage(big, 413, path);
        assertThat(marks.resolve("md5-" + t + "-big")).doesNotExist();
    }
    @Test
    void scriptThatNeverReadsItsBodyStillGetsItsFullResponseOut() throws Exception {
        String t = tag();
        quick.script("body/ignore-" + t + ".sh", "#!/bin/sh\n"
                + "printf 'Content-Type: text/plain\\n\\n'\n"
                + "i=0; while [ $i -lt 200 ]; do echo \"row $i of the answer\"; i=$((i+1)); done\n"
                + "echo end-" + t + "\n");
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            expected.append("row ").append(i).append(" of the answer\n");
        }
        expected.append("end-").append(t).append('\n');
        byte[] body = randomBytes(5 * 1024 * 1024);
        HttpResponse<String> r = quick.send(HttpRequest.newBuilder(quick.uri("/cgi-bin/body/ignore-" + t + ".sh"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(expected.toString());
        assertThat(quick.get("/cgi-bin/hello.sh").body()).isEqualTo("hello\n");
    }

    @Test
    void twentyMegabytesStreamThroughToTheScript() throws Exception {
        String t = tag();
        quick.script("body/sha-" + t + ".py", "#!" + PY + "\n"
                + "import hashlib, os, sys\n"
                + "h = hashlib.sha256(); n = 0\n"
                + "while True:\n"
                + "    b = sys.stdin.buffer.read(65536)\n"
                + "    if not b:\n"
                + "        break\n"
                + "    h.update(b); n += len(b)\n"
                + "print('Content-Type: text/plain\\n')\n"
                + "print(os.environ['CONTENT_LENGTH'], n, h.hexdigest())\n");
        assertBodyArrivesWhole("/cgi-bin/body/sha-" + t + ".py", randomBytes(20 * 1024 * 1024));
    }

    /** Posts {@code body} to a script that answers with CONTENT_LENGTH, the bytes it read and their SHA-256. */
    private void assertBodyArrivesWhole(String path, byte[] body) throws Exception {
        HttpResponse<String> r = quick.send(HttpRequest.newBuilder(quick.uri(path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body().strip()).isEqualTo(body.length + " " + body.length + " " + hex("SHA-256", body));
    }

    /** A script that reads its body only after a while: Kiln waits for room on its stdin, the body arrives whole. */
    @Test
    void aBodyWaitsForAScriptThatReadsItLate() throws Exception {
        String t = tag();
        quick.script("body/late-" + t + ".py", "#!" + PY + "\n"
                + "import hashlib, os, sys, time\n"
                + "time.sleep(0.5)\n"
                + "data = sys.stdin.buffer.read()\n"
                + "print('Content-Type: text/plain\\n')\n"
                + "print(os.environ['CONTENT_LENGTH'], len(data), hashlib.sha256(data).hexdigest())\n");
        assertBodyArrivesWhole("/cgi-bin/body/late-" + t + ".py", randomBytes(4 * 1024 * 1024));
    }
}
