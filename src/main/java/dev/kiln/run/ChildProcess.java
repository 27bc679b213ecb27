package dev.kiln.run;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A started script process, whoever started it: {@link ProcessBuilder} in classic mode, a fork-server in
 * fork-server mode. {@link ScriptProcess} drives it the same way in both.
 */
public interface ChildProcess {
    /** The process id; the script leads its own process group, so this is also its group id. */
    long pid();

    /** The script's stdin; closing it gives the script end-of-file. */
    OutputStream stdin();

    InputStream stdout();

    InputStream stderr();

    boolean isAlive();

    /**
     * The script's stdout and stderr as sockets that one thread can wait on together (a fork-server's child), or
     * null (the pipes of a JDK {@link Process}, which need a thread each). Their streams above still close them.
     */
    default OutputChannels outputChannels() {
        return null;
    }

    /** A script's stdout socket, and the socket its stderr comes from (which may carry its stdin the other way). */
    record OutputChannels(SocketChannel stdout, SocketChannel stderr) {
    }

    /** Waits for the script itself to exit; returns its exit code (128 + signal number when killed). */
    int waitFor() throws InterruptedException;

    /** Waits at most {@code timeout}; true when the script has exited. */
    boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException;

    /** The exit code once exited (128 + signal number when killed); throws IllegalStateException before. */
    int exitValue();

    /**
     * Whether whoever reports the exit has already sent SIGKILL to the script's group by then (a fork-server does,
     * as it reaps): Kiln need not signal it again.
     */
    default boolean groupKilledOnExit() {
        return false;
    }

    /** SIGKILL to the process itself, for when signalling its group failed. */
    void destroyForcibly();

    /**
     * Runs {@code action} once the script itself has exited. By default a thread of {@code waiters} blocks in
     * {@link #waitFor()}; a child whose exit is reported to Kiln anyway (a fork-server's) runs it on that report.
     */
    default void onExit(Runnable action, Executor waiters) {
        waiters.execute(() -> {
            boolean interrupted = false;
            while (true) {
                try {
                    waitFor();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the pool is shutting down: the process still has to be waited for
                    if (!isAlive()) {
                        break;
                    }
                }
            }
            action.run();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
