package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.time.Duration;

import org.junit.jupiter.api.Test;

/**
 * body-timeout and body-min-rate as Apache's mod_reqtimeout counts them: a small body is never judged by its
 * rate within the grace period (Jetty's own minimum rate cut one-byte bodies read a few ms late), a trickle is.
 */
class PacedBodyTest {
    /** {@code bytes} bytes, one per read, each after {@code pauseMillis}. */
    private static InputStream dripping(int bytes, long pauseMillis) {
        return new InputStream() {
            private int left = bytes;

            @Override
            public int read() {
                if (left == 0) {
                    return -1;
                }
                try {
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                left--;
                return 'x';
            }

            @Override
            public int read(byte[] b, int off, int len) {
                int c = read();
                if (c < 0) {
                    return -1;
                }
                b[off] = (byte) c;
                return 1; // one byte a read, as a trickling client's arrive
            }
        };
    }

    @Test
    void aSmallBodyReadLateIsWithinTheGrace() throws Exception {
        InputStream body = new BodyPace(Duration.ofSeconds(20), 500).of(dripping(3, 40));
        assertThat(body.readAllBytes()).hasSize(3);
    }

    @Test
    void aTrickleIsCutOnceTheGraceAndItsBytesAreSpent() {
        InputStream body = new BodyPace(Duration.ofMillis(200), 500).of(dripping(100, 30));
        long t0 = System.nanoTime();
        assertThatThrownBy(body::readAllBytes).isInstanceOf(PacedBody.TooSlow.class)
                .hasMessageContaining("slower than body-min-rate");
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(200L, 2500L);
    }

    @Test
    void noMinimumRateMeansNoLimit() throws Exception {
        InputStream body = new BodyPace(Duration.ZERO, 0).of(dripping(5, 20));
        assertThat(body.readAllBytes()).hasSize(5);
    }
}
