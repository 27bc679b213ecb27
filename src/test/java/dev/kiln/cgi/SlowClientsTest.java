package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.LogCapture;
import dev.kiln.testing.Poll;
import dev.kiln.testing.RawHttp;

/**
 * Slots are for scripts, not clients: a client that never sends its body, trickles it, or never reads its answer
 * holds no slot once its script is done, and is cut by body-timeout and body-min-rate. Two slots only, so a
 * single slot held for a client shows at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SlowClientsTest {
    private KilnTestServer kiln;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        kiln = KilnTestServer.builder(dir).option("max-concurrent", "2").option("max-queued", "0")
                .option("body-timeout", "3s").option("response-buffer", "64k").start();
        kiln.script("quick.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nquick\\n'\n");
        kiln.script("big.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nhead -c 8000000 /dev/zero\n");
        kiln.script("cat.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nwc -c\n");
    }

    @AfterAll
    void stop() throws Exception {
        kiln.close();
    }

    private long running() throws Exception {
        return kiln.status().path("scriptsRunning").asLong();
    }

    /** The server answers a normal request at once, with both slots free. */
    private void servesAtOnce() throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> r = kiln.get("/cgi-bin/quick.sh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("quick\n");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(1000);
    }

    private static Socket send(int port, String request) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(10_000);
        s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        return s;
    }

    private static String readHead(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().contains("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        return head.toString();
    }

    /** body-timeout is for clients: a script may think longer than it before it answers. */
    @Test
    void aScriptSilentLongerThanTheBodyTimeoutStillAnswers() throws Exception {
        kiln.script("thinker.sh", "#!/bin/sh\nsleep 4.5\nprintf 'Content-Type: text/plain\\n\\nthought\\n'\n");
        HttpResponse<String> r = kiln.get("/cgi-bin/thinker.sh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("thought\n");
    }

    @Test
    void promisedBodiesThatNeverComeHoldNoSlot() throws Exception {
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                Socket s = send(kiln.port(), "POST /cgi-bin/quick.sh HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Content-Length: 100000\r\n\r\n");
                idle.add(s);
                assertThat(readHead(s)).as("client %d answered though its body never came", i)
                        .startsWith("HTTP/1.1 200");
                // the head comes before the script's exit gives its slot back: wait for that, not longer
                Poll.withinMillis(3000).until("no slot held for the idle clients", this::running, n -> n == 0);
            }
            servesAtOnce();
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
    }

    @Test
    void aClientThatNeverReadsItsAnswerHoldsNoSlot() throws Exception {
        List<Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Socket s = new Socket();
                s.setReceiveBufferSize(4096);
                s.connect(new InetSocketAddress("127.0.0.1", kiln.port()), 5000);
                s.getOutputStream().write("GET /cgi-bin/big.sh HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                stalled.add(s);
                assertThat(readHead(s)).startsWith("HTTP/1.1 200"); // the head, never the body
                Poll.withinMillis(3000).until("the finished script gave its slot back", this::running, n -> n == 0);
            }
            servesAtOnce();
            // spool files are unlinked when made: what the clients did not take yet shows as the spool's use
            assertThat(kiln.kiln().host().settings().spool().used()).as("what the clients did not take yet waits in "
                    + "the spool").isPositive();
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
        Poll.withinMillis(5000).until("spooled answers given back", () -> kiln.kiln().host().settings().spool()
                .used() == 0);
    }


    @Test
    void aTricklingUploadIsCutWithoutHoldingASlot() throws Exception {
        try (LogCapture logs = LogCapture.capture("kiln.cgi");
             Socket s = send(kiln.port(), "POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     + "Transfer-Encoding: chunked\r\n\r\n")) {
            OutputStream out = s.getOutputStream();
            long t0 = System.nanoTime();
            boolean cut = false;
            for (int i = 0; i < 12 && !cut; i++) {
                try {
                    out.write("1\r\nx\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    cut = true;
                }
                assertThat(running()).as("a spooling upload holds no slot").isZero();
                Thread.sleep(1000);
            }
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(answer).as("cut after %d ms", took).satisfiesAnyOf(
                    a -> assertThat(a).startsWith("HTTP/1.1 408"), a -> assertThat(a).isEmpty());
            assertThat(answer).doesNotContain("Exception").doesNotContain("jetty");
            assertThat(took).as("cut by body-min-rate well before 12 s").isLessThan(9000);
            assertThat(logs.await(2000, "/cgi-bin/cat.sh", "408", "slow or stalled clients"))
                    .as(String.join("\n", logs.lines())).isNotEmpty();
        }
        servesAtOnce();
    }

    @Test
    void aTricklingBodyToAReadingScriptIsCutAndFreesTheSlot() throws Exception {
        try (Socket s = send(kiln.port(), "POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Length: 1000\r\n\r\n")) {
            OutputStream out = s.getOutputStream();
            long t0 = System.nanoTime();
            try {
                for (int i = 0; i < 12; i++) {
                    out.write('x');
                    out.flush();
                    Thread.sleep(1000);
                    if (running() == 0) {
                        break;
                    }
                }
            } catch (IOException cut) {
                // the server hung up
            }
            Poll.withinMillis(4000).until("the cut upload's script gave its slot back", this::running, n -> n == 0);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(9000);
        }
        servesAtOnce();
        assertThat(RawHttp.get(kiln.port(), "/cgi-bin/quick.sh").status()).isEqualTo(200);
    }
}
