package dev.kiln.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The podman command line as it works on the project's machines (rootful, no systemd, runc, cgroupfs, the host's
 * network) and a container of the Kiln image started with it, read through {@link KilnStatus}.
 */
public final class Podman {
    /** Global flags every podman command gets here. */
    private static final List<String> GLOBAL = List.of("podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs");
    /** Flags of build and run: the limits the machine's own would exceed inside a container. */
    public static final List<String> LIMITS = List.of("--network=host", "--ulimit", "nofile=1024:1024",
            "--ulimit", "nproc=4096:4096");

    private Podman() {
    }

    /** {@code podman <args>} with the global flags. */
    public static Commands of(String... args) {
        List<String> cmd = new ArrayList<>(GLOBAL);
        cmd.addAll(List.of(args));
        return Commands.of(cmd);
    }

    /** {@code podman run -d --name NAME <limits> <options> IMAGE}: a container that serves on the host's port. */
    public static Container run(String name, int port, String image, String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("run", "-d", "--name", name, "-e", "KILN_PORT=" + port));
        args.addAll(LIMITS);
        args.addAll(List.of(options));
        args.add(image);
        of(args.toArray(String[]::new)).ok();
        return new Container(name, port);
    }

    /** One running container; closing removes it, stopped or not. */
    public record Container(String name, int port) implements KilnStatus, AutoCloseable {
        private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();

        @Override
        public HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        }

        /** {@code podman inspect --format FORMAT}, trimmed. */
        public String inspect(String format) throws Exception {
            return Podman.of("inspect", "--format", format, name).run().stdout().trim();
        }

        /** Its log so far, for failure messages. */
        public String logs() throws Exception {
            return Podman.of("logs", name).mergeStderr().run().output();
        }

        /** Exit code of the image's own HEALTHCHECK command, run now. */
        public int healthcheck() throws Exception {
            return Podman.of("healthcheck", "run", name).run().exit();
        }

        @Override
        public void close() throws Exception {
            Podman.of("rm", "-f", "-t", "2", name).run();
        }
    }
}
