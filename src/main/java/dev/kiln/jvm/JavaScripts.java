package dev.kiln.jvm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cgi.Plan;
import dev.kiln.cgi.ScriptFolders;
import dev.kiln.cgi.ScriptKind;
import dev.kiln.cgi.Shebang;
import dev.kiln.run.Command;
import dev.kiln.run.ScriptRunner;

/**
 * Java scripts: {@code .java} files without a {@code #!} line (they run with the configured java) and files
 * whose {@code #!} line runs {@code java --source N}. Each JDK gets its launcher; all share the cache entries,
 * the start-up caches and the counters.
 */
public final class JavaScripts implements ScriptKind, AutoCloseable {
    private static final Pattern MAIN = Pattern.compile("\\bvoid\\s+main\\s*\\(");

    private final JdkRegistry jdks;
    private final String defaultJava;
    private final JavaCache cache;
    private final JavaLauncher.Setup setup;
    private final JavacArchives javacArchives;
    private final Map<Jdk, JavaLauncher> launchers = new ConcurrentHashMap<>();

    /**
     * @param scriptEnv      the scripts' environment: its PATH finds {@code java}, javac runs with it
     * @param defaultJava    the java option
     * @param startupCache   the java-startup-cache option
     * @param compileTimeout the longest a compile may take
     */
    public JavaScripts(ScriptRunner runner, BytecodeCache bytecodeCache, Map<String, String> scriptEnv,
                       String defaultJava, boolean startupCache, ScriptFolders folders, Duration compileTimeout) {
        this.jdks = new JdkRegistry(scriptEnv);
        this.defaultJava = defaultJava;
        this.cache = new JavaCache(bytecodeCache);
        this.javacArchives = new JavacArchives(cache, startupCache, scriptEnv);
        this.setup = new JavaLauncher.Setup(runner,
                new CompiledScripts(cache, new Javac(scriptEnv, compileTimeout, javacArchives)),
                new AotCaches(startupCache), new JavaStatistics(), folders);
        jdks.lookup(defaultJava); // resolved once at start, and logged there if it is missing
    }

    @Override
    public boolean interprets(String interpreter) {
        return JdkRegistry.isJavaName(interpreter);
    }

    @Override
    public boolean claims(Path script) {
        return script.getFileName().toString().endsWith(".java");
    }

    @Override
    public Plan plan(String interpreter, List<String> interpreterArgs, Path script, List<String> args) {
        String command = interpreter == null ? defaultJava : interpreter;
        Optional<Jdk> jdk = jdks.lookup(command);
        if (jdk.isEmpty()) {
            return new Plan.CannotStart("the java '" + command + "' cannot be used (" + jdks.failure(command)
                    + "); fix: set the java option or the script's #! line to a JDK's bin/java");
        }
        if (!JavaProgram.of(script, jdk.get(), interpreterArgs).runnable()) {
            return new Plan.CannotStart("its #! line runs java without --source N, which a file not named .java "
                    + "needs; fix: write #!/usr/bin/env java --source " + jdk.get().feature());
        }
        List<String> argv = new ArrayList<>(interpreterArgs.size() + 1);
        argv.add(jdk.get().java().toString());
        argv.addAll(interpreterArgs);
        JavaLauncher launcher = launchers.computeIfAbsent(jdk.get(), j -> new JavaLauncher(j, setup));
        return new Plan.Run(launcher, new Command(argv, script, args));
    }

    /** The program a file is, when it is a Java script with a {@code main} whose JDK can be used. */
    Optional<JavaProgram> programFor(Path script) throws IOException {
        Optional<Shebang> shebang = Shebang.read(script);
        Optional<Jdk> jdk;
        List<String> words = List.of();
        if (shebang.isPresent()) {
            Shebang named = shebang.get().viaEnv().orElse(shebang.get());
            if (!interprets(named.interpreter())) {
                return Optional.empty();
            }
            jdk = jdks.lookup(named.interpreter());
            words = named.args();
        } else {
            jdk = claims(script) ? jdks.lookup(defaultJava) : Optional.empty();
        }
        if (jdk.isEmpty() || !MAIN.matcher(Files.readString(script, StandardCharsets.UTF_8)).find()) {
            return Optional.empty(); // a helper class of other scripts, not a program of its own
        }
        JavaProgram p = JavaProgram.of(script, jdk.get(), words);
        return p.runnable() ? Optional.of(p) : Optional.empty();
    }

    /** What precompiling the Java scripts did. */
    public record Precompiled(int scripts, int compiled, int fresh, List<String> errors) {
    }

    /** Compiles every Java script below the scripts folder that is not fresh in the cache. */
    public Precompiled precompile() throws IOException, InterruptedException {
        List<Path> files = new ArrayList<>();
        for (Path root : setup.folders().roots()) {
            try (Stream<Path> walk = Files.walk(root, 4)) {
                walk.filter(Files::isRegularFile).filter(f -> !f.toString().contains("/.")).sorted()
                        .forEach(files::add);
            }
        }
        int scripts = 0;
        int compiled = 0;
        List<String> errors = new ArrayList<>();
        for (Path f : files) {
            Optional<JavaProgram> p = programFor(f);
            if (p.isEmpty()) {
                continue;
            }
            scripts++;
            JavaStatistics.Counters counters = setup.statistics().of(setup.folders().name(f));
            long before = counters.compiles.sum();
            Optional<CompiledScript> c = setup.compiled().get(p.get(), counters);
            compiled += (int) (counters.compiles.sum() - before);
            if (c.isEmpty()) {
                errors.add(f + ": the cache cannot hold its jar (logged above)");
            } else {
                errors.addAll(c.get().errors());
            }
        }
        return new Precompiled(scripts, compiled, scripts - compiled, errors);
    }

    /** Removes cache entries whose script or JDK is gone; returns how many. */
    public int prune() {
        return JavaCachePruner.prune(cache);
    }

    public Map<String, JavaStatistics.Snapshot> statistics() {
        return setup.statistics().all();
    }

    public JdkRegistry jdks() {
        return jdks;
    }

    @Override
    public void close() {
        setup.aot().close();
        javacArchives.close();
    }
}
