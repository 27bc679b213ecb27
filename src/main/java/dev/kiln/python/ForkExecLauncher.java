package dev.kiln.python;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.forkserver.ForkRefusedException;
import dev.kiln.forkserver.ForkRequest;
import dev.kiln.forkserver.ForkServer;
import dev.kiln.forkserver.ForkedChild;
import dev.kiln.run.Cage;
import dev.kiln.run.Command;
import dev.kiln.run.Launcher;
import dev.kiln.run.ScriptProcess;
import dev.kiln.run.ScriptRunner;
import dev.kiln.run.ScriptUser;
import dev.kiln.run.StderrFilter;

/**
 * Scripts that are not Python, started as mod_cgid starts every script: a small resident process forks, the
 * child makes itself a session leader and execs the script. Started from the JVM instead, each would cost an
 * extra exec of {@code setsid} (Java cannot make a child a session leader), about as much CPU as a shell
 * script's own run. The exec fork-server is a lean interpreter (no site, no preload); its child runs no Python
 * after the fork. When it is not there (failing, backing off), scripts start from the JVM as before.
 */
public final class ForkExecLauncher implements Launcher {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.forkserver");

    private final Launcher direct;
    private final ScriptRunner runner;
    private final ForkServers servers;
    private final Supplier<Optional<Path>> python;

    /**
     * @param direct how the same scripts start without the fork-server (ExecLauncher)
     * @param python the interpreter the exec fork-server runs on, looked up on first use; empty: none
     */
    public ForkExecLauncher(Launcher direct, ScriptRunner runner, ForkServers servers,
                            Supplier<Optional<Path>> python) {
        this.direct = direct;
        this.runner = runner;
        this.servers = servers;
        this.python = python;
    }

    @Override
    public Launch prepare(Command command) {
        Launch plain = direct.prepare(command);
        Optional<Path> interpreter = python.get();
        if (interpreter.isEmpty() || !command.argv().get(0).startsWith("/")) {
            return plain; // a bare name (the executable option) is looked up on PATH by ProcessBuilder
        }
        ForkServers.Key key = ForkServers.Key.forExec(interpreter.get());
        return new Launch() {
            @Override
            public Map<String, String> environment() {
                return plain.environment();
            }

            @Override
            public ScriptProcess start(Map<String, String> env, Path workDir, String logName) throws IOException {
                ScriptUser user = runner.user();
                Cage cage = runner.cage();
                Map<String, String> confined = new HashMap<>(env);
                confined.putAll(runner.confinement(cage));
                // the script by its name in the folder the child enters and checks (a swapped folder runs nothing)
                ForkRequest request = ForkRequest.exec(command.argvInFolder(), confined, workDir)
                        .asUser(user.uid(), user.gid(), user.groups());
                Optional<ForkServer> server = servers.server(key);
                if (server.isPresent()) {
                    try {
                        ForkedChild child = server.get().fork(request);
                        return runner.track(child, logName, StderrFilter.NONE, cage);
                    } catch (ForkRefusedException e) {
                        LOG.warn("{}: the exec fork-server will not start it ({}); it starts from Kiln",
                                command.script(), e.getMessage());
                    } catch (IOException e) {
                        servers.failed(key, server.get(), e);
                    }
                }
                cage.close();
                return plain.start(env, workDir, logName);
            }
        };
    }
}
