package dev.kiln.server;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.kiln.Kiln;
import dev.kiln.ScriptsFolder;
import dev.kiln.cache.CachePruner;
import dev.kiln.config.KilnConfig;
import dev.kiln.config.Option;
import dev.kiln.jvm.JavaScripts;
import dev.kiln.python.InterpreterRegistry;
import dev.kiln.python.Precompiler;

/** The jar's one-shot commands: {@code precompile} and {@code prune}. */
final class Commands {
    private Commands() {
    }

    /** OK when everything compiled, FAILURE when a script or module has an error. */
    static ExitCode precompile(KilnConfig config, Map<String, String> env, PrintStream out) throws Exception {
        try (Kiln kiln = new Kiln(config, env, Path.of(System.getProperty("java.io.tmpdir")))) {
            long start = System.nanoTime();
            boolean terminal = System.console() != null;
            Precompiler.Summary s = kiln.precompiler().run(terminal ? Precompiler.bar(out) : Precompiler.Progress.NONE);
            for (String e : s.errors()) {
                out.println(e);
            }
            for (String f : s.failures()) {
                out.println("error: " + f);
            }
            out.printf("precompiled %d scripts into %s in %d ms: %s%n", s.scripts(), kiln.cache().prefix(),
                    (System.nanoTime() - start) / 1_000_000, s.describe());
            boolean startupCaches = config.interpreters().precompileStartupCache();
            JavaScripts.Precompiled j = kiln.java().precompile(startupCaches);
            j.errors().forEach(out::println);
            if (j.scripts() > 0) {
                out.printf("precompiled %d Java scripts: %d compiled, %d already fresh, %d errors%s%n", j.scripts(),
                        j.compiled(), j.fresh(), j.errors().size(), startupCaches ? ", " + j.startupCaches()
                                + " with a start-up cache" : "");
            }
            return s.ok() && j.errors().isEmpty() ? ExitCode.OK : ExitCode.FAILURE;
        }
    }

    /**
     * Prints every option as {@code name = value  # source} and checks what a start would check first (the
     * scripts folder, the Python interpreter) without starting: like {@code apachectl configtest}.
     */
    static ExitCode config(List<KilnConfig.Setting> settings, KilnConfig config, String path, PrintStream out) {
        out.println("# Kiln " + Kiln.VERSION + ": the effective configuration, each value with where it came from");
        for (KilnConfig.Setting s : settings) {
            String value = s.option() == Option.STATUS_TOKEN && !s.value().isEmpty() ? "(set, not shown)" : s.value();
            out.println(s.option().key() + " = " + value + "  # " + s.source());
        }
        ScriptsFolder.check(config.folders().scripts().toAbsolutePath().normalize());
        String python = config.interpreters().python();
        InterpreterRegistry probe = new InterpreterRegistry(Map.of("PATH", path));
        if (probe.lookup(python).isEmpty()) {
            out.println("warning: python " + python + ": " + probe.failure(python) + "; Python scripts would fail");
        }
        out.println("configuration OK");
        return ExitCode.OK;
    }

    static ExitCode prune(KilnConfig config, Map<String, String> env, PrintStream out) throws Exception {
        try (Kiln kiln = new Kiln(config, env, Path.of(System.getProperty("java.io.tmpdir")))) {
            CachePruner.Result r = kiln.prune();
            out.printf("pruned %d files (%d bytes) from %s%n", r.files(), r.bytes(), kiln.cache().prefix());
            out.printf("pruned %d Java cache entries from %s%n", kiln.java().prune(),
                    kiln.cache().root().resolve("java"));
            return ExitCode.OK;
        }
    }
}
