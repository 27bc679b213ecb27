package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A script's output on its way to a slow client: memory, then a spool file within the budget, order kept. */
@Timeout(20)
class OutputBufferTest {
    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static byte[] drain(OutputBuffer buffer) throws Exception {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[7000];
        int n;
        while ((n = buffer.read(buf)) >= 0) {
            got.write(buf, 0, n);
        }
        return got.toByteArray();
    }

    private static long files(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> f = Files.list(dir)) {
            return f.count();
        }
    }

    @Test
    void aWriterFinishesWhileNobodyReadsAndTheReaderGetsEveryByteInOrder(@TempDir Path dir) throws Exception {
        Spool spool = new Spool(SpoolFolder.prepare(dir.resolve("spool")), 10 << 20, 4);
        OutputBuffer buffer = new OutputBuffer(spool, 64 * 1024);
        byte[] data = random(3_000_000, 1);
        for (int off = 0; off < data.length; off += 16 * 1024) {
            buffer.write(data, off, Math.min(16 * 1024, data.length - off)); // no reader yet: never waits
        }
        buffer.close();
        assertThat(spool.used()).as("beyond memory, on disk").isGreaterThan(2_000_000);
        assertThat(files(dir.resolve("spool"))).as("the spool file is unlinked from the start").isZero();
        assertThat(drain(buffer)).isEqualTo(data);
        assertThat(spool.used()).as("budget given back once read").isZero();
        buffer.abandon();
        assertThat(files(dir.resolve("spool"))).isZero();
    }

    @Test
    void aFullSpoolMakesTheWriterWaitForItsReaderNotFail(@TempDir Path dir) throws Exception {
        Spool spool = new Spool(SpoolFolder.prepare(dir.resolve("spool")), 100_000, 4);
        OutputBuffer buffer = new OutputBuffer(spool, 8 * 1024);
        byte[] data = random(1_000_000, 2);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (buffer) {
                for (int off = 0; off < data.length; off += 4096) {
                    buffer.write(data, off, Math.min(4096, data.length - off));
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        assertThat(writer).as("waits: memory and spool are full").isNotDone();
        assertThat(spool.used()).isLessThanOrEqualTo(100_000);
        assertThat(drain(buffer)).isEqualTo(data);
        writer.get(5, TimeUnit.SECONDS);
        buffer.abandon();
        assertThat(spool.used()).isZero();
    }

    @Test
    void abandoningDropsWhatIsBufferedAndLaterOutput(@TempDir Path dir) throws Exception {
        Spool spool = new Spool(SpoolFolder.prepare(dir.resolve("spool")), 10 << 20, 4);
        OutputBuffer buffer = new OutputBuffer(spool, 1024);
        buffer.write(random(500_000, 3), 0, 500_000);
        buffer.abandon();
        buffer.write(random(10, 4), 0, 10);
        assertThat(buffer.read(new byte[100])).isEqualTo(-1);
        assertThat(spool.used()).isZero();
        assertThat(files(dir.resolve("spool"))).isZero();
    }
}
