package dev.kiln.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's headless Chromium, as a person's browser: the DOM it built from a page, or a screenshot of it. */
public final class Chromium {
    public static final Path BINARY = Path.of("/usr/bin/chromium");

    private final Path profile;

    /** @param profile an empty folder for the browser's profile */
    public Chromium(Path profile) throws IOException {
        this.profile = profile;
        Files.createDirectories(profile);
    }

    /** The page as the browser parsed and laid it out, serialised back. */
    public String dom(String url) throws Exception {
        return run(List.of("--dump-dom", url));
    }

    /** A PNG of the page at {@code width} x {@code height}. */
    public void screenshot(String url, Path png, int width, int height) throws Exception {
        Files.createDirectories(png.toAbsolutePath().getParent());
        run(List.of("--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height,
                "--hide-scrollbars", url));
        if (!Files.isRegularFile(png) || Files.size(png) == 0) {
            throw new AssertionError("chromium wrote no screenshot to " + png);
        }
    }

    private String run(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + profile));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectError(profile.resolve("stderr.txt").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new AssertionError("chromium failed: " + Files.readString(profile.resolve("stderr.txt")));
        }
        return out;
    }
}
