package dev.kiln.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.Commands;
import dev.kiln.testing.FreePort;
import dev.kiln.testing.KilnJar;
import dev.kiln.testing.KilnTestServer;
import dev.kiln.testing.Poll;

/**
 * docker/compose.yaml's topology without a container engine: Debian's nginx, configured by docker/nginx.conf, in
 * front of two Kiln processes on loopback, each with its own cache. Load reaches both; one is killed mid-run and
 * nginx routes around it, losing at most the requests that were in flight on it; restarted, it gets load again.
 */
class ScaleOutIT {
    private static final int CLIENTS = 4;

    @TempDir
    Path dir;

    @Test
    void nginxSpreadsLoadRoutesAroundAKilledReplicaAndTakesItBack() throws Exception {
        Path scripts = Files.createDirectories(dir.resolve("cgi-bin"));
        KilnTestServer.writeScript(scripts, "who.py", "import os\nprint('Content-Type: text/plain')\nprint()\n"
                + "print(os.environ['REPLICA'])\n");
        int portA = FreePort.pick();
        int portB = FreePort.pick();
        int front = FreePort.pick();
        KilnJar a = replica("a", portA, scripts);
        Process nginx = null;
        try (KilnJar b = replica("b", portB, scripts)) {
            nginx = nginx(front, portA, portB);
            try (Load load = new Load(URI.create("http://127.0.0.1:" + front + "/cgi-bin/who.py"))) {
                load.awaitServed("a", 20);
                load.awaitServed("b", 20);

                a.kill();
                int failedAtKill = load.failed.get();
                long servedByB = load.count("b");
                load.awaitServed("b", servedByB + 100); // b alone carries the load
                assertThat(load.failed.get() - failedAtKill).as("requests lost when a was killed (at most those "
                        + "in flight on it): %s", load.errors).isLessThanOrEqualTo(CLIENTS);

                int failedAfterKill = load.failed.get();
                long servedByA = load.count("a");
                a = replica("a", portA, scripts);
                load.awaitServed("a", servedByA + 20); // nginx tries it again after fail_timeout
                assertThat(load.failed.get()).as("requests lost while a was away or rejoining: %s", load.errors)
                        .isEqualTo(failedAfterKill);
                System.out.printf("scale-out: served by a %d, by b %d; lost when a was killed: %d%n", load.count("a"),
                        load.count("b"), failedAfterKill);
            }
        } finally {
            a.close();
            if (nginx != null) {
                nginx.destroy();
                nginx.waitFor();
            }
        }
    }

    private KilnJar replica(String name, int port, Path scripts) throws Exception {
        Path home = Files.createDirectories(dir.resolve("home-" + name));
        return KilnJar.builder().in(home).port(port).args("--scripts", scripts.toString(),
                "--cache", home.resolve("cache").toString(), "--env", "REPLICA=" + name,
                "--access-log", "false").start();
    }

    /** Debian's nginx with docker/nginx.conf, its upstream servers replaced by the replicas' loopback ports. */
    private Process nginx(int front, int portA, int portB) throws Exception {
        String site = Files.readString(Path.of("docker/nginx.conf"));
        assertThat(site).contains("server kiln-a:8080 ").contains("server kiln-b:8080 ").contains("listen 8080;");
        site = site.replace("server kiln-a:8080 ", "server 127.0.0.1:" + portA + " ")
                .replace("server kiln-b:8080 ", "server 127.0.0.1:" + portB + " ")
                .replace("listen 8080;", "listen 127.0.0.1:" + front + ";");
        Path ngx = Files.createDirectories(dir.resolve("nginx"));
        Files.writeString(ngx.resolve("site.conf"), site);
        Files.writeString(ngx.resolve("nginx.conf"), """
                daemon off;
                worker_processes 1;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log warn;
                events { worker_connections 256; }
                http {
                    access_log off;
                    client_body_temp_path %1$s/body;
                    proxy_temp_path %1$s/proxy;
                    fastcgi_temp_path %1$s/fastcgi;
                    uwsgi_temp_path %1$s/uwsgi;
                    scgi_temp_path %1$s/scgi;
                    include %1$s/site.conf;
                }
                """.formatted(ngx));
        Process nginx = Commands.of("/usr/sbin/nginx", "-e", ngx.resolve("error.log").toString(), "-p", ngx.toString(),
                "-c", ngx.resolve("nginx.conf").toString()).mergeStderr().start(ngx.resolve("out.log"), null);
        HttpClient probe = HttpClient.newHttpClient();
        Poll.within(Duration.ofSeconds(10)).until("nginx answers on " + front, () -> {
            try {
                return probe.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front + "/")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException notYet) {
                assertThat(nginx.isAlive()).as("nginx is running: %s", Files.readString(ngx.resolve("out.log")))
                        .isTrue();
                return false;
            }
        });
        return nginx;
    }

    /** CLIENTS threads sending GETs back to back, counting who answered and what failed. */
    private static final class Load implements AutoCloseable {
        private final Map<String, LongAdder> served = new ConcurrentHashMap<>();
        private final AtomicInteger failed = new AtomicInteger();
        private final List<String> errors = new CopyOnWriteArrayList<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final List<Thread> threads = new ArrayList<>();

        Load(URI uri) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int i = 0; i < CLIENTS; i++) {
                Thread t = new Thread(() -> {
                    while (!stop.get()) {
                        send(client, uri);
                    }
                }, "load-" + i);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
        }

        private void send(HttpClient client, URI uri) {
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    served.computeIfAbsent(r.body().strip(), k -> new LongAdder()).increment();
                } else {
                    fail(r.statusCode() + " " + r.body().strip());
                }
            } catch (Exception e) {
                fail(e.toString());
            }
        }

        private void fail(String why) {
            failed.incrementAndGet();
            errors.add(why);
        }

        long count(String replica) {
            LongAdder n = served.get(replica);
            return n == null ? 0 : n.sum();
        }

        void awaitServed(String replica, long atLeast) throws Exception {
            Poll.within(Duration.ofSeconds(15)).every(Duration.ofMillis(50))
                    .until(atLeast + " requests served by " + replica + " (served: " + served + ", failed: " + errors
                            + ")", () -> count(replica) >= atLeast);
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(15_000);
            }
        }
    }
}
