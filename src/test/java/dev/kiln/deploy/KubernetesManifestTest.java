package dev.kiln.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.testing.Commands;
import dev.kiln.testing.Json;

/**
 * docker/kubernetes.yaml against the Kubernetes schema (npm's kubernetes-models, installed by bin/setup-machine
 * --test), and what the schema cannot know: that it fits the image (its user, port and volumes), that its probes
 * are Kiln's, that the Service reaches the Deployment's pods.
 */
class KubernetesManifestTest {
    private static final Path MANIFEST = Path.of("docker/kubernetes.yaml");
    private static final Path VALIDATOR = Path.of("src/test/node/kubernetes-validate.cjs");

    @TempDir
    Path temp;

    @Test
    void theSchemaAcceptsTheManifestAndItFitsTheImage() throws Exception {
        Map<String, JsonNode> docs = new HashMap<>();
        for (JsonNode doc : Json.tree(validate(List.of(MANIFEST)).ok())) {
            docs.put(doc.path("kind").asText(), doc);
        }
        assertThat(docs).containsOnlyKeys("ConfigMap", "Deployment", "Service");
        String dockerfile = Files.readString(Path.of("docker/Dockerfile"));
        JsonNode deployment = docs.get("Deployment").path("spec");
        JsonNode pod = deployment.path("template").path("spec");
        JsonNode kiln = pod.path("containers").get(0);

        JsonNode port = kiln.path("ports").get(0);
        assertThat(port.path("containerPort").asText()).isEqualTo(group(dockerfile, "(?m)^EXPOSE (\\d+)"));
        assertThat(kiln.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/kiln/ready");
        assertThat(kiln.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/kiln/health");
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            assertThat(kiln.path(probe).path("httpGet").path("port").asText()).as(probe)
                    .isEqualTo(port.path("name").asText());
        }

        JsonNode security = pod.path("securityContext");
        assertThat(security.path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(security.path("runAsUser").asText()).as("the image's user kiln")
                .isEqualTo(group(dockerfile, "useradd --uid (\\d+)"));
        assertThat(kiln.path("securityContext").path("allowPrivilegeEscalation").asBoolean(true)).isFalse();
        assertThat(kiln.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).isTrue();

        Map<String, String> mounts = new HashMap<>();
        kiln.path("volumeMounts").forEach(m -> mounts.put(m.path("mountPath").asText(), m.path("name").asText()));
        List<String> volumes = new ArrayList<>();
        pod.path("volumes").forEach(v -> volumes.add(v.path("name").asText()));
        assertThat(volumes).containsAll(mounts.values());
        Matcher volume = Pattern.compile("\"(/[^\"]+)\"").matcher(group(dockerfile, "(?m)^VOLUME \\[(.*)]"));
        while (volume.find()) {
            assertThat(mounts).as("the image's VOLUME %s is mounted", volume.group(1)).containsKey(volume.group(1));
        }
        assertThat(mounts).as("spooled bodies, with a read-only root").containsKey("/tmp");
        String cache = env(kiln, "KILN_CACHE");
        assertThat(cache).as("a folder Kiln creates 0700 inside the cache volume").startsWith("/var/cache/kiln/");
        assertThat(pod.path("volumes").findValues("configMap").get(0).path("name").asText())
                .isEqualTo(docs.get("ConfigMap").path("metadata").path("name").asText());

        JsonNode labels = deployment.path("template").path("metadata").path("labels");
        assertThat(Json.map(labels.toString())).containsAllEntriesOf(Json.map(deployment.path("selector")
                .path("matchLabels").toString()));
        JsonNode service = docs.get("Service").path("spec");
        assertThat(Json.map(labels.toString())).containsAllEntriesOf(Json.map(service.path("selector").toString()));
        assertThat(service.path("ports").get(0).path("targetPort").asText()).isEqualTo(port.path("name").asText());
    }

    @Test
    void theValidatorRefusesWhatTheSchemaRefuses() throws Exception {
        String manifest = Files.readString(MANIFEST);
        List<Path> bad = new ArrayList<>();
        for (String[] broken : List.of(new String[] {"containerPort: 8080", "containerPort: \"8080\""},
                new String[] {"type: RuntimeDefault", "type: Sometimes"},
                new String[] {"      containers:\n        - name: kiln\n", "      containers:\n        - nickname: kiln\n"})) {
            assertThat(manifest).contains(broken[0]);
            bad.add(Files.writeString(temp.resolve("bad-" + bad.size() + ".yaml"), manifest.replace(broken[0], broken[1])));
        }
        Commands.Result r = validate(bad).run(); // one node for all: each file is checked on its own
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stderr().lines()).as(r.stderr()).hasSize(bad.size()).allSatisfy(line -> assertThat(line)
                .contains("Deployment kiln"));
        assertThat(r.stderr()).contains("containerPort must be integer", "must be equal to one of the allowed values",
                "containers/0 must have required property name");
    }

    private static String globalModules;

    @BeforeAll
    static void findNpmModules() throws Exception {
        globalModules = Commands.of("npm", "root", "-g").ok().trim();
    }

    private static Commands validate(List<Path> manifests) {
        List<String> command = new ArrayList<>(List.of("node", VALIDATOR.toString()));
        manifests.forEach(m -> command.add(m.toString()));
        return Commands.of(command).env(e -> e.put("NODE_PATH", globalModules));
    }

    private static String env(JsonNode container, String name) {
        for (JsonNode e : container.path("env")) {
            if (e.path("name").asText().equals(name)) {
                return e.path("value").asText();
            }
        }
        throw new AssertionError("no " + name + " in the container's env");
    }

    private static String group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as(regex).isTrue();
        return m.group(1);
    }
}
