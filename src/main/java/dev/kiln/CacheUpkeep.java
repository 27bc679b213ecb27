package dev.kiln;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.CacheMode;
import dev.kiln.cache.CachePruner;
import dev.kiln.jvm.JavaScripts;
import dev.kiln.python.InterpreterRegistry;
import dev.kiln.python.Precompiler;
import dev.kiln.python.PythonInterpreter;

/** Keeping the cache in shape around requests: pruning what is gone, warming it in the background. */
final class CacheUpkeep {
    private static final Logger LOG = LoggerFactory.getLogger("kiln");

    private CacheUpkeep() {
    }

    /** Removes bytecode of gone sources and of interpreters not in use; logs what it removed. */
    static CachePruner.Result prune(BytecodeCache cache, InterpreterRegistry interpreters) {
        if (cache.mode() != CacheMode.RW) {
            return new CachePruner.Result(0, 0, 0, 0);
        }
        Set<String> tags = new HashSet<>();
        interpreters.known().forEach(p -> tags.add(p.cacheTag()));
        if (tags.isEmpty()) {
            return new CachePruner.Result(0, 0, 0, 0); // nothing is known to be in use: keep everything
        }
        try {
            for (PythonInterpreter p : interpreters.known()) {
                CachePruner.record(cache.prefix(), p.cacheTag(), p.executable());
            }
            CachePruner.Result r = CachePruner.prune(cache.prefix(), tags);
            if (r.files() > 0) {
                LOG.info("pruned {} cached files ({} bytes): {} of interpreters that are gone, {} whose source is "
                        + "gone", r.files(), r.bytes(), r.staleTags(), r.goneSources());
            }
            return r;
        } catch (IOException e) {
            LOG.warn("pruning cache {} stopped: {}; fix: check the cache folder's permissions", cache.prefix(),
                    e.toString());
            return new CachePruner.Result(0, 0, 0, 0);
        }
    }

    /** Warms the cache on a background thread (option precompile), so not even the first request pays. */
    static void precompileInBackground(Kiln kiln) {
        Thread t = new Thread(() -> {
            try {
                long start = System.nanoTime();
                Precompiler.Summary s = kiln.precompiler().run(Precompiler.Progress.NONE);
                LOG.info("precompiled {} scripts in {} ms: {}", s.scripts(), (System.nanoTime() - start) / 1_000_000,
                        s.describe());
                s.errors().forEach(e -> LOG.warn("precompile: {}", e));
                s.failures().forEach(e -> LOG.warn("precompile: {}", e));
                JavaScripts.Precompiled j = kiln.java().precompile(kiln.config().interpreters()
                        .precompileStartupCache());
                if (j.scripts() > 0) {
                    LOG.info("precompiled {} Java scripts: {} compiled, {} already fresh, {} errors, {} with a "
                            + "start-up cache", j.scripts(), j.compiled(), j.fresh(), j.errors().size(),
                            j.startupCaches());
                }
            } catch (IOException e) {
                LOG.warn("precompile stopped: {}", e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "kiln-precompile");
        t.setDaemon(true);
        t.start();
    }
}
