package dev.kiln.jvm;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
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
 * request's path, or by {@code precompile} when asked: a {@link TrainingRun} of the script with
 * {@code -XX:AOTCacheOutput} (JDK 25+), record then create (JDK 24) or {@code -XX:ArchiveClassesAtExit}
 * (JDK 13-23), then one {@code -version} run that must be able to map it.
 * The file lives beside the jar, named after it, so a recompile invalidates it.
 */
final class AotCaches implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.java");
    private static final Duration CHECK_LIMIT = Duration.ofMinutes(2);
    private static final File DEV_NULL = new File("/dev/null");

    private enum State { BUILDING, READY, FAILED }

    /** What one script's start-up cache is built from: its compile, its program and how a request runs it. */
    record Training(CompiledScript compiled, JavaProgram program, Map<String, String> env, Path workDir,
                    String script, JavaStatistics.Counters counters) {
    }

    private final boolean enabled;
    private final TrainingRun training;
    private final Map<Path, State> states = new ConcurrentHashMap<>();
    private final ExecutorService builder = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kiln-aot");
        t.setDaemon(true);
        return t;
    });

    /** @param enabled the java-startup-cache option: when false none is built or used */
    AotCaches(boolean enabled, TrainingRun training) {
        this.enabled = enabled;
        this.training = training;
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
            states.putIfAbsent(c.jar(), State.READY); // built by an earlier Kiln, or by precompile
            s = State.READY;
        }
        return s == State.READY ? file : null;
    }

    /** After a request's run that exited 0: builds the compile's start-up cache once, in the background. */
    void afterGoodRun(Training t) {
        if (claim(t)) {
            builder.execute(() -> build(t));
        }
    }

    /** For precompile: builds the compile's start-up cache now, unless it has one; whether it has one then. */
    boolean buildNow(Training t) {
        if (claim(t)) {
            build(t);
        }
        return usable(t.compiled(), t.program().jdk()) != null;
    }

    /** Whether the caller is the one to build this compile's cache (once per jar; never when it cannot). */
    private boolean claim(Training t) {
        if (!enabled) {
            t.counters().aot = "off";
            return false;
        }
        JavaProgram p = t.program();
        if (p.jdk().aotKind() == Jdk.AotKind.NONE) {
            if (states.putIfAbsent(t.compiled().jar(), State.FAILED) == null) {
                t.counters().aot = "unsupported";
                LOG.info("{}: JDK {} cannot build start-up caches (dynamic CDS needs 13+, AOT caches 24+); it runs "
                        + "without one", p.script(), p.jdk().version());
            }
            return false;
        }
        if (usable(t.compiled(), p.jdk()) != null || states.putIfAbsent(t.compiled().jar(), State.BUILDING) != null) {
            return false;
        }
        t.counters().aot = "building";
        return true;
    }

    private void build(Training t) {
        long start = System.nanoTime();
        CompiledScript c = t.compiled();
        JavaProgram p = t.program();
        Jdk.AotKind kind = p.jdk().aotKind();
        Path file = c.aotFile(kind);
        String why;
        Path out = null;
        Path tmp = null;
        try {
            out = TrainingRun.outputFolder(c.dir());
            Path trained = out.resolve("cache." + kind.extension());
            why = train(t, kind, trained);
            if (why == null && (!Files.isRegularFile(trained) || Files.size(trained) == 0)) {
                why = "the training run wrote no " + kind.extension() + " file";
            }
            if (why == null) {
                tmp = JavaCache.privateTemp(c.dir(), "." + kind.extension()); // Kiln's copy: what runs load
                Files.copy(trained, tmp, StandardCopyOption.REPLACE_EXISTING);
                List<String> check = JavaLauncher.vmArgs(p, kind.useOption(tmp));
                check.add(kind == Jdk.AotKind.DYNAMIC_CDS ? "-Xshare:on" : "-XX:AOTMode=on");
                check.addAll(List.of("-cp", JavaLauncher.classPath(c, p), "-version"));
                why = run(check, t.env(), t.workDir(), "a JVM cannot map it");
            }
            if (why == null) {
                Files.setPosixFilePermissions(tmp, JavaCache.fileModeIn(tmp.getParent()));
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                states.put(c.jar(), State.READY);
                t.counters().aot = "ready";
                LOG.info("{}: built its start-up cache {} in {} ms; requests use it from now on", p.script(), file,
                        (System.nanoTime() - start) / 1_000_000);
                return;
            }
        } catch (IOException e) {
            why = e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            why = "interrupted";
        } finally {
            removeQuietly(out, tmp);
        }
        states.put(c.jar(), State.FAILED);
        t.counters().aot = "failed: " + why;
        LOG.warn("{}: cannot build a start-up cache with JDK {}: {}; it runs without one", p.script(),
                p.jdk().version(), why);
    }

    /** The training run (then, for JDK 24, the create step); null when it succeeded, else why not. */
    private String train(Training t, Jdk.AotKind kind, Path out) throws IOException, InterruptedException {
        JavaProgram p = t.program();
        CompiledScript c = t.compiled();
        String config = out + ".config";
        List<String> first = switch (kind) {
            case AOT_CACHE -> JavaLauncher.vmArgs(p, "-XX:AOTCacheOutput=" + out);
            case AOT_TWO_STEP -> JavaLauncher.vmArgs(p, "-XX:AOTMode=record", "-XX:AOTConfiguration=" + config);
            default -> JavaLauncher.vmArgs(p, "-XX:ArchiveClassesAtExit=" + out);
        };
        first.addAll(List.of("-cp", JavaLauncher.classPath(c, p), c.mainClass()));
        String why = training.run(first, t.env(), t.workDir(), t.script());
        if (why == null && kind == Jdk.AotKind.AOT_TWO_STEP) {
            List<String> create = JavaLauncher.vmArgs(p, "-XX:AOTMode=create", "-XX:AOTConfiguration=" + config,
                    "-XX:AOTCache=" + out);
            create.addAll(List.of("-cp", JavaLauncher.classPath(c, p)));
            why = run(create, t.env(), t.workDir(), "creating it failed");
        }
        return why;
    }

    /** A JVM run of Kiln's own that runs none of the script's code (creating or mapping the cache). */
    private static String run(List<String> cmd, Map<String, String> env, Path workDir, String failure)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd)).directory(workDir.toFile())
                .redirectInput(DEV_NULL).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().clear();
        pb.environment().putAll(env);
        Process proc = pb.start();
        try {
            if (!proc.waitFor(CHECK_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                proc.destroyForcibly();
                return failure + ": it did not finish within " + CHECK_LIMIT.toSeconds() + " s";
            }
        } catch (InterruptedException e) {
            proc.destroyForcibly(); // Kiln is stopping: nothing it started outlives it
            throw e;
        }
        return proc.exitValue() == 0 ? null : failure + " (exit status " + proc.exitValue() + ")";
    }

    private static void removeQuietly(Path out, Path tmp) {
        try {
            if (out != null) {
                JavaCache.removeTree(out);
            }
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            // a leftover starts with '.': prune removes it
        }
    }

    @Override
    public void close() {
        builder.shutdownNow();
    }
}
