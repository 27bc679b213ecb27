package dev.kiln.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** The JDKs Java-script tests run scripts with: the {@code java} on the test PATH (17 here) and JDK 25. */
public final class Jdks {
    /** JDK 25, where .ci/run finds it: compact source files and AOT caches need it. */
    public static final Path JDK25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");

    private Jdks() {
    }

    /** Skips the calling test, saying why, when JDK 25 is not installed. */
    public static void assumeJdk25() {
        assumeTrue(Files.isExecutable(JDK25) && Files.isExecutable(JDK25.resolveSibling("javac")),
                "JDK 25 is not installed at " + JDK25.getParent().getParent() + ": test skipped");
    }
}
