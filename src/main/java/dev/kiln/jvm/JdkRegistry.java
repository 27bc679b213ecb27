package dev.kiln.jvm;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds JDKs: a command as the scripts' PATH resolves it, followed to its real binary (Debian's
 * {@code /usr/bin/java} is two links away from it), its version read from the JDK's {@code release} file. No
 * process is started; each command is looked up once.
 */
public final class JdkRegistry {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.java");

    /** A lookup's result: the JDK or why there is none. */
    private record Found(Jdk jdk, String failure) {
    }

    private final String path;
    private final Map<String, Found> found = new ConcurrentHashMap<>();

    /** @param scriptEnv the environment scripts get (its PATH decides what {@code java} means) */
    public JdkRegistry(Map<String, String> scriptEnv) {
        this.path = scriptEnv.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
    }

    /** Whether a program name or path is a Java launcher. */
    public static boolean isJavaName(String command) {
        return command.substring(command.lastIndexOf('/') + 1).equals("java");
    }

    /** The JDK a command names, found on first use; empty (logged once) when it is not a usable JDK. */
    public Optional<Jdk> lookup(String command) {
        return Optional.ofNullable(found.computeIfAbsent(command, this::find).jdk());
    }

    /** Why the lookup of this command failed, for error pages and logs. */
    public String failure(String command) {
        Found f = found.get(command);
        return f == null ? null : f.failure();
    }

    /** Every JDK found so far. */
    public Collection<Jdk> known() {
        return found.values().stream().map(Found::jdk).filter(j -> j != null).distinct().toList();
    }

    private Found find(String command) {
        Optional<Path> onPath = which(command);
        if (onPath.isEmpty()) {
            return failed(command, command.contains("/") ? "not an executable file"
                    : "not found on the scripts' PATH (" + path + ")");
        }
        try {
            Path java = onPath.get().toRealPath();
            Path home = java.getParent().getParent();
            Path javac = home.resolve("bin/javac");
            if (!Files.isExecutable(javac)) {
                return failed(command, java + " has no javac beside it (a JRE, not a JDK)");
            }
            String version = version(home);
            String feature = version.split("[.+-]")[0];
            if (!feature.matches("[0-9]+")) {
                return failed(command, "cannot tell its version from " + home.resolve("release"));
            }
            int n = Integer.parseInt(feature.equals("1") ? version.split("\\.")[1] : feature);
            return new Found(new Jdk(command, java, javac, version, n), null);
        } catch (IOException e) {
            return failed(command, "cannot read its JDK: " + e.getMessage());
        }
    }

    /** {@code JAVA_VERSION} of a JDK's {@code release} file, e.g. 25.0.3; empty when it has none. */
    static String version(Path home) throws IOException {
        Properties release = new Properties();
        try (InputStream in = Files.newInputStream(home.resolve("release"))) {
            release.load(in);
        }
        return release.getProperty("JAVA_VERSION", "").replace("\"", "").strip();
    }

    /**
     * Whether the JDK of this binary ({@code bin/java} or {@code bin/javac}, as a compile recorded it) is still
     * installed at that version: false once it is removed or upgraded in place (a new version compiles anew).
     */
    static boolean installed(Path binary, String version) {
        try {
            Path home = binary.toRealPath().getParent().getParent();
            return Files.isExecutable(binary) && version(home).equals(version);
        } catch (IOException e) {
            return false;
        }
    }

    private Optional<Path> which(String name) {
        if (name.contains("/")) {
            Path p = Path.of(name);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = dir.isEmpty() ? null : Path.of(dir, name);
            if (candidate != null && Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static Found failed(String command, String why) {
        LOG.warn("java {}: {}; fix: install a JDK, or set the java option / the script's shebang to a JDK's "
                + "bin/java", command, why);
        return new Found(null, why);
    }
}
