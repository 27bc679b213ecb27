package dev.kiln.python;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds Python interpreters and probes each once (path, version, cache tag), so no request pays for a shim or
 * a version check. Lookups by the same command are answered from memory.
 */
public final class InterpreterRegistry {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.python");
    private static final Pattern PYTHON_NAME = Pattern.compile("python[0-9.]*");
    private static final String PROBE = "import sys\n"
            + "print(sys.executable)\n"
            + "print(sys.version.split()[0])\n"
            + "print(getattr(sys.implementation, 'cache_tag', None) or '')\n"
            + "print(int(sys.version_info >= (3, 8)))\n";

    /** A probe result: the interpreter or the reason it failed. */
    private record Probe(PythonInterpreter interpreter, String failure) {
    }

    private final Map<String, String> scriptEnv;
    private final Map<String, Probe> probes = new ConcurrentHashMap<>();

    /** @param scriptEnv the environment scripts get (PATH decides what {@code python3} means) */
    public InterpreterRegistry(Map<String, String> scriptEnv) {
        this.scriptEnv = Map.copyOf(scriptEnv);
    }

    /** Whether a program name or path looks like a Python interpreter ({@code python}, {@code python3.11}). */
    public static boolean isPythonName(String command) {
        String name = command.substring(command.lastIndexOf('/') + 1);
        return PYTHON_NAME.matcher(name).matches();
    }

    /** Looks a bare program name up on the scripts' PATH, as {@code /usr/bin/env} would. */
    public Optional<Path> which(String name) {
        if (name.contains("/")) {
            Path p = Path.of(name);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        String path = scriptEnv.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * The interpreter a command names, probed on first use. Empty (and logged once) when it cannot be run.
     *
     * @param command a bare name looked up on the scripts' PATH, or a path
     */
    public Optional<PythonInterpreter> lookup(String command) {
        Probe p = probes.computeIfAbsent(command, this::probe);
        return Optional.ofNullable(p.interpreter());
    }

    /** The reason the last lookup of this command failed, for error pages and logs. */
    public String failure(String command) {
        Probe p = probes.get(command);
        return p == null ? null : p.failure();
    }

    /** Every interpreter found so far. */
    public Collection<PythonInterpreter> known() {
        return probes.values().stream().map(Probe::interpreter).filter(i -> i != null).distinct().toList();
    }

    private Probe probe(String command) {
        Optional<Path> found = which(command);
        if (found.isEmpty()) {
            String why = command.contains("/")
                    ? "not an executable file"
                    : "not found on the scripts' PATH (" + scriptEnv.getOrDefault("PATH", "") + ")";
            LOG.warn("python interpreter {}: {}; fix: install it, or set the python option / shebang to an "
                    + "interpreter that exists", command, why);
            return new Probe(null, why);
        }
        ProcessBuilder pb = new ProcessBuilder(found.get().toString(), "-c", PROBE);
        pb.environment().clear();
        pb.environment().putAll(scriptEnv);
        pb.environment().remove("PYTHONDONTWRITEBYTECODE");
        pb.redirectErrorStream(true);
        try {
            Process proc = pb.start();
            proc.getOutputStream().close();
            String out;
            try (InputStream in = proc.getInputStream()) {
                out = new String(in.readNBytes(16 * 1024), StandardCharsets.UTF_8);
            }
            if (!proc.waitFor(30, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                return failed(command, "did not answer a version probe within 30 s");
            }
            List<String> lines = out.lines().toList();
            if (proc.exitValue() != 0 || lines.size() < 4) {
                return failed(command, "version probe failed (exit " + proc.exitValue() + "): "
                        + out.strip().lines().reduce((a, b) -> b).orElse(""));
            }
            Path exe = lines.get(0).isBlank() ? found.get() : Path.of(lines.get(0).strip());
            String tag = lines.get(2).strip();
            boolean cacheable = !tag.isEmpty() && lines.get(3).strip().equals("1");
            return new Probe(new PythonInterpreter(command, exe, lines.get(1).strip(), tag, cacheable), null);
        } catch (IOException e) {
            return failed(command, "cannot start: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(command, "interrupted while probing");
        }
    }

    private static Probe failed(String command, String why) {
        LOG.warn("python interpreter {}: {}; fix: point the python option or the script's shebang at a working "
                + "interpreter", command, why);
        return new Probe(null, why);
    }
}
