package dev.kiln.jvm;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-script start-up caches, built on one background thread after a script's first good run, never on a
 * request's path: a training run of the script (a plain GET with the environment of the request that just
 * succeeded, minus its query, body, cookies and credentials; stdout dropped) with {@code -XX:AOTCacheOutput}
 * (JDK 25+), record then create (JDK 24) or {@code -XX:ArchiveClassesAtExit} (JDK 13-23), then one
 * {@code -version} run that must be able to map it.
 * The file lives beside the jar, named after it, so a recompile invalidates it.
 */
final class AotCaches implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.java");
    private static final Duration TRAINING_LIMIT = Duration.ofMinutes(2);
    private static final File DEV_NULL = new File("/dev/null");

    private enum State { BUILDING, READY, FAILED }

    private final boolean enabled;
    private final Map<Path, State> states = new ConcurrentHashMap<>();
    private final ExecutorService builder = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kiln-aot");
        t.setDaemon(true);
        return t;
    });

    /** @param enabled the java-startup-cache option: when false none is built or used */
    AotCaches(boolean enabled) {
        this.enabled = enabled;
    }

    /** The start-up cache a run of this compile uses now, or null while there is none. */
    Path usable(CompiledScript c, Jdk jdk) {
        Jdk.AotKind kind = jdk.aotKind();
        if (!enabled || kind == Jdk.AotKind.NONE) {
            return null;
        }
        Path file = c.aotFile(kind);
        State s = states.get(c.jar());
        if (s == null && Files.isRegularFile(file)) {
            states.putIfAbsent(c.jar(), State.READY); // built by an earlier Kiln
            s = State.READY;
        }
        return s == State.READY ? file : null;
    }

    /** After a run that exited 0: builds the compile's start-up cache once, in the background. */
    void afterGoodRun(CompiledScript c, JavaProgram p, Map<String, String> env, Path workDir,
                      JavaStatistics.Counters counters) {
        if (!enabled) {
            counters.aot = "off";
            return;
        }
        if (p.jdk().aotKind() == Jdk.AotKind.NONE) {
            if (states.putIfAbsent(c.jar(), State.FAILED) == null) {
                counters.aot = "unsupported";
                LOG.info("{}: JDK {} cannot build start-up caches (dynamic CDS needs 13+, AOT caches 24+); it runs "
                        + "without one", p.script(), p.jdk().version());
            }
            return;
        }
        if (states.putIfAbsent(c.jar(), State.BUILDING) != null) {
            return;
        }
        counters.aot = "building";
        builder.execute(() -> build(c, p, trainingEnvironment(env), workDir, counters));
    }

    /**
     * The training run is a plain GET of the script, not a replay of the request that succeeded: no query
     * string, body, cookies or credentials, and {@code KILN_TRAINING_RUN=1} for scripts that want to skip work.
     */
    static Map<String, String> trainingEnvironment(Map<String, String> request) {
        Map<String, String> env = new HashMap<>(request);
        env.keySet().removeIf(k -> k.startsWith("HTTP_") || k.startsWith("CONTENT_") || k.equals("AUTH_TYPE")
                || k.equals("REMOTE_USER") || k.equals("PATH_INFO") || k.equals("PATH_TRANSLATED"));
        env.put("REQUEST_METHOD", "GET");
        env.put("QUERY_STRING", "");
        env.put("REQUEST_URI", env.getOrDefault("SCRIPT_NAME", ""));
        env.put("KILN_TRAINING_RUN", "1");
        return Map.copyOf(env);
    }

    private void build(CompiledScript c, JavaProgram p, Map<String, String> env, Path workDir,
                       JavaStatistics.Counters counters) {
        long start = System.nanoTime();
        Jdk.AotKind kind = p.jdk().aotKind();
        Path file = c.aotFile(kind);
        String why;
        try {
            Path tmp = JavaCache.privateTemp(c.dir(), "." + kind.extension());
            Files.delete(tmp); // the JVM creates it
            why = train(c, p, kind, tmp, env, workDir);
            if (why == null && (!Files.isRegularFile(tmp) || Files.size(tmp) == 0)) {
                why = "the training run wrote no " + kind.extension() + " file";
            }
            if (why == null) {
                List<String> check = JavaLauncher.vmArgs(p, kind.useOption(tmp));
                check.add(kind == Jdk.AotKind.DYNAMIC_CDS ? "-Xshare:on" : "-XX:AOTMode=on");
                check.addAll(List.of("-cp", JavaLauncher.classPath(c, p), "-version"));
                why = run(check, env, workDir, "a JVM cannot map it");
            }
            if (why == null) {
                Files.setPosixFilePermissions(tmp, JavaCache.fileModeIn(tmp.getParent()));
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                states.put(c.jar(), State.READY);
                counters.aot = "ready";
                LOG.info("{}: built its start-up cache {} in {} ms; requests use it from now on", p.script(), file,
                        (System.nanoTime() - start) / 1_000_000);
                return;
            }
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            why = e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            why = "interrupted";
        }
        states.put(c.jar(), State.FAILED);
        counters.aot = "failed: " + why;
        LOG.warn("{}: cannot build a start-up cache with JDK {}: {}; it runs without one", p.script(),
                p.jdk().version(), why);
    }

    /** The training run (two for JDK 24); null when it succeeded, else why not. */
    private static String train(CompiledScript c, JavaProgram p, Jdk.AotKind kind, Path out, Map<String, String> env,
                                Path workDir) throws IOException, InterruptedException {
        String config = out + ".config";
        List<String> first = switch (kind) {
            case AOT_CACHE -> JavaLauncher.vmArgs(p, "-XX:AOTCacheOutput=" + out);
            case AOT_TWO_STEP -> JavaLauncher.vmArgs(p, "-XX:AOTMode=record", "-XX:AOTConfiguration=" + config);
            default -> JavaLauncher.vmArgs(p, "-XX:ArchiveClassesAtExit=" + out);
        };
        first.addAll(List.of("-cp", JavaLauncher.classPath(c, p), c.mainClass()));
        String why = run(first, env, workDir, "the training run failed");
        if (why == null && kind == Jdk.AotKind.AOT_TWO_STEP) {
            List<String> create = JavaLauncher.vmArgs(p, "-XX:AOTMode=create", "-XX:AOTConfiguration=" + config,
                    "-XX:AOTCache=" + out);
            create.addAll(List.of("-cp", JavaLauncher.classPath(c, p)));
            why = run(create, env, workDir, "creating it failed");
        }
        Files.deleteIfExists(Path.of(config));
        return why;
    }

    private static String run(List<String> cmd, Map<String, String> env, Path workDir, String failure)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd)).directory(workDir.toFile())
                .redirectInput(DEV_NULL).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().clear();
        pb.environment().putAll(env);
        Process proc = pb.start();
        try {
            if (!proc.waitFor(TRAINING_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                proc.destroyForcibly();
                return failure + ": it did not finish within " + TRAINING_LIMIT.toSeconds() + " s";
            }
        } catch (InterruptedException e) {
            proc.destroyForcibly(); // Kiln is stopping: no training run outlives it
            throw e;
        }
        return proc.exitValue() == 0 ? null : failure + " (exit status " + proc.exitValue() + ")";
    }

    @Override
    public void close() {
        builder.shutdownNow();
    }
}
