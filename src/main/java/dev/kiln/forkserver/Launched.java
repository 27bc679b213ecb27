package dev.kiln.forkserver;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;


/**
 * A fork-server process that has said {@code ready} on its stdout, and Kiln's CONTROL connection to it. Its
 * stderr goes to the socket folder's log: Kiln reads that only to say why it died.
 */
record Launched(Process process, SocketFolder folder, SocketChannel control) {

    static Launched start(ForkServerSpec spec) throws IOException {
        SocketFolder folder = SocketFolder.create();
        List<String> cmd = new ArrayList<>();
        cmd.add(spec.python().toString());
        cmd.addAll(spec.flags());
        cmd.addAll(List.of(spec.runtimeDir().resolve(ForkServerSpec.SCRIPT).toString(), folder.dir().toString(),
                spec.cacheMode(), spec.validation(), spec.scriptsRoot().toString()));
        cmd.addAll(spec.preload());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(new File("/"));
        pb.environment().clear();
        pb.environment().putAll(spec.environment());
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectError(ProcessBuilder.Redirect.appendTo(folder.log().toFile()));
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            folder.delete();
            throw new IOException("cannot start " + spec.interpreter() + ": " + e.getMessage(), e);
        }
        try {
            awaitReady(process, spec, folder);
            SocketChannel control = SocketChannel.open(StandardProtocolFamily.UNIX);
            control.connect(UnixDomainSocketAddress.of(folder.socket()));
            Channels.writeFully(control, ForkRequest.header('C', 0));
            return new Launched(process, folder, control);
        } catch (IOException e) {
            process.destroyForcibly();
            folder.delete();
            throw e;
        }
    }

    /** Polls: Java cannot wait on a pipe with a timeout, and this happens once per fork-server. */
    private static void awaitReady(Process process, ForkServerSpec spec, SocketFolder folder) throws IOException {
        long deadline = System.nanoTime() + spec.startTimeout().toNanos();
        StringBuilder line = new StringBuilder();
        try (InputStream in = process.getInputStream()) {
            while (true) {
                if (in.available() > 0 || !process.isAlive()) {
                    int b = in.read();
                    if (b == '\n' && line.toString().startsWith("ready ")) {
                        return;
                    }
                    if (b < 0) {
                        throw new IOException(spec.interpreter() + " fork-server exited at start-up: "
                                + folder.logTail());
                    }
                    line.append((char) b);
                } else if (System.nanoTime() > deadline) {
                    throw new IOException(spec.interpreter() + " fork-server not ready within "
                            + spec.startTimeout().toSeconds() + " s (its preload list may be slow to import): "
                            + folder.logTail());
                } else {
                    Thread.sleep(2);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while " + spec.interpreter() + " fork-server started", e);
        }
    }

    /** How the fork-server ended and the last lines it wrote, once it has (or its control failed). */
    static String crashCause(Process process, SocketFolder folder, String readerCause) {
        try {
            process.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String how = process.isAlive() ? readerCause
                : process.exitValue() > 128 ? "was killed by signal " + (process.exitValue() - 128)
                : "exited with status " + process.exitValue();
        String tail = folder.logTail();
        return tail.isEmpty() ? how : how + ": " + tail;
    }
}
