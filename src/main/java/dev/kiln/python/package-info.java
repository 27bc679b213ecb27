/**
 * Python scripts: interpreters probed once, the bootstrap launcher, the precompiler, the loader protocol.
 * Its resources (kiln_boot.py, kiln_loader.py, ...) are the other side of {@link dev.kiln.python.LoaderProtocol}.
 * May import cgi (to be a ScriptKind), run, cache, config and forkserver; never web or server.
 */
package dev.kiln.python;
