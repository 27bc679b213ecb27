package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.KilnTestServer;

/** max-concurrent, max-queued and queue-timeout: overload is refused with 503 and Retry-After, slots come back. */
class ConcurrencyLimitTest extends LimitsFixture {
    @Test
    void overloadIsRefusedWith503AndRetryAfter(@TempDir Path dir) throws Exception {
        String t = tag();
        try (KilnTestServer busy = builder(dir).option("max-concurrent", "2")
                .option("max-queued", "1").option("queue-timeout", "1s").option("timeout", "20s").start()) {
            busy.script("nap-" + t + ".sh", "#!/bin/sh\nsleep 2\nprintf 'Content-Type: text/plain\\n\\nslept\\n'\n");
            busy.script("hello.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello\\n'\n");
            String path = "/cgi-bin/nap-" + t + ".sh";
            List<CompletableFuture<Timed>> all = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < 6; i++) {
                all.add(busy.client().sendAsync(HttpRequest.newBuilder(busy.uri(path))
                                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString())
                        .thenApply(r -> new Timed(r, millisSince(t0))));
            }
            List<Timed> done = new ArrayList<>();
            for (CompletableFuture<Timed> f : all) {
                done.add(f.get(30, TimeUnit.SECONDS));
            }
            List<Timed> ok = done.stream().filter(d -> d.r.statusCode() == 200).toList();
            List<Timed> refused = done.stream().filter(d -> d.r.statusCode() == 503).toList();
            assertThat(ok).as(done.toString()).hasSize(2);
            assertThat(refused).as(done.toString()).hasSize(4);
            ok.forEach(d -> assertThat(d.r.body()).isEqualTo("slept\n"));
            for (Timed d : refused) {
                Optional<String> retry = d.r.headers().firstValue("Retry-After");
                assertThat(retry).as("Retry-After on 503").isPresent();
                assertThat(Integer.parseInt(retry.get())).isPositive();
                assertShortErrorPage(d.r, 503, path);
            }
            // three refused at once (queue full), one after waiting queue-timeout for a slot
            assertThat(refused.stream().filter(d -> d.millis < 800).count()).as(done.toString()).isEqualTo(3);
            assertThat(refused.stream().filter(d -> d.millis >= 900 && d.millis < 1900).count())
                    .as(done.toString()).isEqualTo(1);

            // every slot came back: two at once run again, and the server serves normally
            assertThat(busy.status().path("scriptsRunning").asLong()).isZero();
            CompletableFuture<HttpResponse<String>> a = busy.client().sendAsync(get(busy, path),
                    HttpResponse.BodyHandlers.ofString());
            CompletableFuture<HttpResponse<String>> b = busy.client().sendAsync(get(busy, path),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(a.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(b.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            HttpResponse<String> hello = busy.get("/cgi-bin/hello.sh");
            assertThat(hello.statusCode()).isEqualTo(200);
            assertThat(hello.body()).isEqualTo("hello\n");
        }
    }

    record Timed(HttpResponse<String> r, long millis) {
        @Override
        public String toString() {
            return r.statusCode() + "@" + millis + "ms";
        }
    }
}
