package dev.kiln.python;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** What the suites that run Kiln's Python files directly share: a fresh {@link BootRuntime} for every test. */
abstract class BootSuite {
    @TempDir
    Path base;
    BootRuntime py;

    @BeforeEach
    void newRuntime() throws IOException {
        py = new BootRuntime(base);
    }
}
