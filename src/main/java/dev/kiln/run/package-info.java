/**
 * Script processes, whoever starts them: launchers, timeouts, process-group signals, stdio pumps, slots.
 * Knows nothing of HTTP, Python or the cache; {@link dev.kiln.run.Launcher} is the seam the others plug into.
 * Imports no other dev.kiln package.
 */
package dev.kiln.run;
