package dev.kiln.python;

import java.nio.file.Path;

/**
 * One Python interpreter, probed once.
 *
 * @param command    what the script or the configuration named, e.g. {@code python3} or {@code /usr/bin/python3}
 * @param executable its real binary ({@code sys.executable}): a pyenv shim costs ~50 ms per start, the binary does not
 * @param version    {@code sys.version} first word, e.g. 3.11.7
 * @param cacheTag   {@code sys.implementation.cache_tag}, e.g. cpython-311; empty when it has none
 * @param cacheable  whether Kiln's cache applies: needs a cache tag and pycache_prefix (3.8+)
 */
public record PythonInterpreter(String command, Path executable, String version, String cacheTag,
                                boolean cacheable) {
}
