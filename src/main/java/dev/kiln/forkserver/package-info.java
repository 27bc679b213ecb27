/**
 * The warm Python fork-server's Java side: starting one, its Unix domain socket protocol, forked children.
 * Kiln connects each child's stdio itself (Java cannot pass file descriptors); no thread or process per request.
 * May import dev.kiln.run only; which script runs how is the python package's business (ForkServerLauncher).
 */
package dev.kiln.forkserver;
