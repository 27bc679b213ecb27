package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CgiResponseHeadTest {

    private static CgiResponseHead read(String s, int max) throws Exception {
        return CgiResponseHead.read(new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1)), max);
    }

    @Test
    void parsesFieldsInOrderKeepingRepeatsAndBody() throws Exception {
        CgiResponseHead h = read("Content-Type: text/plain\nSet-Cookie: a=1\nStatus: 201 Created\n"
                + "Set-Cookie: b=2\n\nbody\n", 1024);
        assertThat(h.status()).isEqualTo(201);
        assertThat(h.headers()).extracting(CgiResponseHead.Header::name)
                .containsExactly("Content-Type", "Set-Cookie", "Set-Cookie");
        assertThat(h.headers()).extracting(CgiResponseHead.Header::value).containsExactly("text/plain", "a=1", "b=2");
        assertThat(new String(h.body(), StandardCharsets.ISO_8859_1)).isEqualTo("body\n");
    }

    @Test
    void acceptsCrLfAndLocation() throws Exception {
        CgiResponseHead h = read("Location: /other?x=1\r\n\r\n", 1024);
        assertThat(h.location()).isEqualTo("/other?x=1");
        assertThat(h.status()).isZero();
        assertThat(h.body()).isEmpty();
    }

    @Test
    void headerBlockSplitAcrossManyReadsIsFound() throws Exception {
        InputStream trickle = new InputStream() {
            final byte[] data = "Content-Type: text/plain\r\nX-A: 1\r\n\r\nhello".getBytes(StandardCharsets.US_ASCII);
            int pos;

            @Override
            public int read() {
                return pos < data.length ? data[pos++] : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= data.length) {
                    return -1;
                }
                b[off] = data[pos++];
                return 1;
            }
        };
        CgiResponseHead h = CgiResponseHead.read(trickle, 1024);
        assertThat(h.headers()).hasSize(2);
        assertThat(new String(h.body(), StandardCharsets.US_ASCII) + new String(trickle.readAllBytes(),
                StandardCharsets.US_ASCII)).isEqualTo("hello");
    }

    @Test
    void aMalformedLineIsQuoted() {
        assertThatThrownBy(() -> read("Content-Type: text/plain\nthis is not a header\n\n", 1024))
                .isInstanceOf(CgiResponseHead.MalformedException.class)
                .extracting(e -> ((CgiResponseHead.MalformedException) e).line()).isEqualTo("this is not a header");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Status: abc\n\n", "Status: 700 Nope\n\n", "Bad Name: x\n\n", "\nbody"})
    void malformedHeadBlocksAreRefused(String head) {
        assertThatThrownBy(() -> read(head, 1024)).isInstanceOf(CgiResponseHead.MalformedException.class);
    }

    @Test
    void oversizedHeaderBlockIsRefused() {
        String big = "X-Big: " + "a".repeat(5000) + "\n\n";
        assertThatThrownBy(() -> read(big, 4096)).isInstanceOf(CgiResponseHead.MalformedException.class)
                .hasMessageContaining("larger than 4096");
    }

    @Test
    void endOfOutputBeforeTheBlankLineIsIncomplete() {
        assertThatThrownBy(() -> read("Content-Type: text/plain\n", 1024))
                .isInstanceOf(CgiResponseHead.IncompleteException.class);
        assertThatThrownBy(() -> read("", 1024)).isInstanceOf(CgiResponseHead.IncompleteException.class);
    }

    @Test
    void foldedContinuationLineJoinsThePreviousField() throws Exception {
        CgiResponseHead h = read("X-Long: one\n  two\nContent-Type: text/plain\n\n", 1024);
        assertThat(h.headers().get(0).value()).isEqualTo("one two");
    }

    @Test
    void readsNoFurtherThanNeeded() throws Exception {
        // a script that sends its headers and then waits must not block the parser
        InputStream headersThenBlock = new InputStream() {
            final byte[] data = "Content-Type: text/plain\n\n".getBytes(StandardCharsets.US_ASCII);
            int pos;

            @Override
            public int read() throws IOException {
                throw new IOException("single-byte reads not expected");
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (pos >= data.length) {
                    throw new IOException("parser read past the header block while it was complete");
                }
                int n = Math.min(len, data.length - pos);
                System.arraycopy(data, pos, b, off, n);
                pos += n;
                return n;
            }
        };
        assertThat(CgiResponseHead.read(headersThenBlock, 1024).headers()).hasSize(1);
    }
}
