package dev.kiln.server;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

import dev.kiln.Kiln;
import dev.kiln.cache.CachePruner;
import dev.kiln.config.KilnConfig;
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
            return s.ok() ? ExitCode.OK : ExitCode.FAILURE;
        }
    }

    static ExitCode prune(KilnConfig config, Map<String, String> env, PrintStream out) throws Exception {
        try (Kiln kiln = new Kiln(config, env, Path.of(System.getProperty("java.io.tmpdir")))) {
            CachePruner.Result r = kiln.prune();
            out.printf("pruned %d files (%d bytes) from %s%n", r.files(), r.bytes(), kiln.cache().prefix());
            return ExitCode.OK;
        }
    }
}
