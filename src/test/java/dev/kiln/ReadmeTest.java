package dev.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.kiln.config.Option;

/** Keeps the README true: its first commands exist and its option table lists every option as it is. */
class ReadmeTest {
    @Test
    void startsWithTheRunAndTestCommands() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("README.md"));
        String top = String.join("\n", lines.subList(0, 6));
        assertThat(top).contains("bin/run").contains("bin/test");
        assertThat(Path.of("bin/run")).isExecutable();
        assertThat(Path.of("bin/test")).isExecutable();
        assertThat(Files.readString(Path.of("bin/test"))).contains("mvn -B clean verify");
        assertThat(Files.readString(Path.of(".ci/run"))).contains("bin/test");
    }

    @Test
    void optionTableMatchesTheCode() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (Option o : Option.values()) {
            String row = "| `" + o.key() + "` | `" + o.flag() + " " + o.metavar() + "` | `" + o.envName() + "` | `"
                    + (o.defaultValue().isEmpty() ? "(empty)" : o.defaultValue()) + "` |";
            assertThat(readme).as("README row for %s", o.key()).contains(row);
        }
    }
}
