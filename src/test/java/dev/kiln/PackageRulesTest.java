package dev.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each package's package-info says what it may import; this keeps the code to it, so the layering (run at the
 * bottom, cgi above it, python beside cache, wiring at the top) cannot drift.
 */
class PackageRulesTest {
    private static final Path MAIN = Path.of("src/main/java/dev/kiln");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?dev\\.kiln\\.([a-z]+)\\.",
            Pattern.MULTILINE);

    @ParameterizedTest(name = "{0} imports only [{1}]")
    @CsvSource(delimiter = ';', value = {
        "run;",
        "cache;",
        "config;",
        "cgi;run",
        "forkserver;run",
        "python;cache cgi config forkserver run",
        "jvm;cache cgi config run",
        "metrics;",
        "juli;",
        "web;cache cgi config forkserver jvm metrics python run",
        "server;cache cgi config jvm python web",
    })
    void packageImportsOnlyWhatItsPackageInfoAllows(String pkg, String allowed) throws IOException {
        Set<String> may = allowed == null ? Set.of() : Set.of(allowed.split(" "));
        Set<String> found = new TreeSet<>();
        try (Stream<Path> files = Files.list(MAIN.resolve(pkg))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = IMPORT.matcher(Files.readString(f));
                while (m.find()) {
                    if (!m.group(1).equals(pkg) && !may.contains(m.group(1))) {
                        found.add(f.getFileName() + " imports dev.kiln." + m.group(1));
                    }
                }
            }
        }
        assertThat(found).as("imports outside what package-info allows").isEmpty();
        assertThat(Files.readString(MAIN.resolve(pkg).resolve("package-info.java")))
                .as("package-info states the rule").containsAnyOf("May import", "Imports no other");
    }

    @ParameterizedTest(name = "{0} has a package-info")
    @CsvSource({"cache", "cgi", "config", "forkserver", "juli", "jvm", "metrics", "python", "run", "server", "web"})
    void everyPackageSaysWhatLivesThere(String pkg) throws IOException {
        List<String> lines = Files.readAllLines(MAIN.resolve(pkg).resolve("package-info.java"));
        assertThat(lines).as("three lines of description").hasSizeGreaterThanOrEqualTo(6);
    }
}
