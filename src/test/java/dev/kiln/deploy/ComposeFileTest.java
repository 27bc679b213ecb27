package dev.kiln.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.testing.Commands;
import dev.kiln.testing.Json;

/**
 * docker/compose.yaml as Compose reads it (docker-compose config validates it against the Compose schema and
 * resolves anchors and paths), and what ScaleOutIT cannot see of it: that nginx gets docker/nginx.conf, and that
 * the upstream servers there are the compose file's Kiln services on the port their image listens on.
 */
class ComposeFileTest {
    @Test
    void composeAcceptsTheFileAndNginxProxiesToItsKilnServices() throws Exception {
        Commands.Result config = Commands.of("docker-compose", "-f", "docker/compose.yaml", "config").run();
        assertThat(config.exit()).as("docker-compose config: %s", config.stderr()).isZero();
        JsonNode services = Json.tree(Commands.of("python3", "-c", "import json, sys, yaml; "
                + "print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", writeTemp(config.stdout())).ok()).path("services");
        List<String> kilns = new ArrayList<>();
        services.fields().forEachRemaining(s -> {
            if (s.getValue().path("build").path("dockerfile").asText().equals("docker/Dockerfile")) {
                kilns.add(s.getKey() + ":" + s.getValue().path("environment").path("KILN_PORT").asText());
            }
        });
        assertThat(kilns).as("Kiln replicas built from docker/Dockerfile").hasSize(2);

        List<String> upstream = new ArrayList<>();
        Matcher server = Pattern.compile("(?m)^\\s*server (\\S+) ").matcher(Files.readString(Path.of("docker/nginx.conf")));
        while (server.find()) {
            upstream.add(server.group(1));
        }
        assertThat(upstream).as("docker/nginx.conf's upstream servers").containsExactlyInAnyOrderElementsOf(kilns);
        assertThat(services.path("nginx").path("volumes").get(0).asText())
                .isEqualTo(Path.of("docker/nginx.conf").toAbsolutePath() + ":/etc/nginx/conf.d/default.conf:ro");
        assertThat(services.path("nginx").path("ports").get(0).path("target").asText())
                .isEqualTo(listenPort());
    }

    private static String listenPort() throws Exception {
        Matcher listen = Pattern.compile("(?m)^\\s*listen (\\d+);").matcher(Files.readString(Path.of("docker/nginx.conf")));
        assertThat(listen.find()).isTrue();
        return listen.group(1);
    }

    private static String writeTemp(String text) throws Exception {
        Path file = Files.createTempFile("kiln-compose", ".yaml");
        file.toFile().deleteOnExit();
        return Files.writeString(file, text).toString();
    }
}
