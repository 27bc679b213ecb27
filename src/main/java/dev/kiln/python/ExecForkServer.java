package dev.kiln.python;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.forkserver.ForkRequest;
import dev.kiln.run.ChildProcess;
import dev.kiln.run.ExecServer;
import dev.kiln.run.ScriptUser;

/**
 * The exec server as a fork-server: a lean resident interpreter (isolated, no site, nothing preloaded) whose
 * children run no Python after the fork; they exec the command. Every exec'd script goes through it: classic-mode
 * Python on Kiln's bootstrap, shell and other scripts, Java scripts. When it is not there (failing, backing off),
 * scripts start from the JVM as before.
 */
public final class ExecForkServer implements ExecServer {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.forkserver");

    private final ForkServers servers;
    private final Supplier<Optional<Path>> python;

    /** @param python the interpreter the exec fork-server runs on, looked up on first use; empty: none */
    public ExecForkServer(ForkServers servers, Supplier<Optional<Path>> python) {
        this.servers = servers;
        this.python = python;
    }

    @Override
    public Optional<ChildProcess> start(List<String> argv, Map<String, String> env, Path workDir, ScriptUser user,
                                        String logName) {
        Optional<Path> interpreter = python.get();
        if (interpreter.isEmpty()) {
            return Optional.empty();
        }
        ForkRequest request = ForkRequest.exec(argv, env, workDir).asUser(user.uid(), user.gid(), user.groups());
        return servers.fork(ForkServers.Key.forExec(interpreter.get()), request, 1, why -> LOG.warn(
                "{}: the exec fork-server will not start it ({}); it starts from Kiln", logName, why))
                .map(ChildProcess.class::cast);
    }
}
