package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The README's code blocks, read as a user copies them. */
final class ReadmeBlocks {
    private ReadmeBlocks() {
    }

    /** The first ```xml block after the line {@code heading}. */
    static String xmlAfter(String heading) {
        String readme;
        try {
            readme = Files.readString(Path.of("README.md"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int at = readme.indexOf("\n" + heading + "\n");
        assertThat(at).as("README heading %s", heading).isNotNegative();
        int start = readme.indexOf("```xml\n", at);
        assertThat(start).as("an xml block after %s", heading).isNotNegative();
        start += "```xml\n".length();
        return readme.substring(start, readme.indexOf("```\n", start));
    }
}
