package dev.kiln.python;

import java.io.IOException;
import java.io.UncheckedIOException;

import dev.kiln.cache.BytecodeCache;

/**
 * Where Kiln's own Python files are taken from: the cache's {@code runtime} folder while the cache is private
 * to Kiln, else a private temporary folder. They run for every request, so they must never come from a folder
 * someone else could write to.
 */
public final class RuntimeFiles {
    private final BytecodeCache cache;
    private final PythonRuntime installed;
    private volatile PythonRuntime privateCopy;

    public RuntimeFiles(BytecodeCache cache) throws IOException {
        this.cache = cache;
        this.installed = cache.safe() ? PythonRuntime.install(cache.runtimeDir(), cache.shareGid())
                : PythonRuntime.installPrivate(cache.shareGid());
    }

    /** The files to use now. */
    public PythonRuntime current() {
        if (cache.safe() || !installed.dir().startsWith(cache.root())) {
            return installed;
        }
        PythonRuntime p = privateCopy;
        if (p == null) {
            synchronized (this) {
                if (privateCopy == null) {
                    try {
                        privateCopy = PythonRuntime.installPrivate(cache.shareGid());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                p = privateCopy;
            }
        }
        return p;
    }
}
