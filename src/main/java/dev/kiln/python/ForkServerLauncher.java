package dev.kiln.python;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cache.CacheMode;
import dev.kiln.forkserver.ForkRequest;
import dev.kiln.forkserver.ForkServerSpec;
import dev.kiln.forkserver.ForkedChild;
import dev.kiln.run.Cage;
import dev.kiln.run.Command;
import dev.kiln.run.Launcher;
import dev.kiln.run.ScriptProcess;
import dev.kiln.run.ScriptUser;

/**
 * Fork-server mode: each request is a fresh process forked from a warm interpreter that has started and
 * imported its preload list once, running the script through the same loader as classic mode. What a
 * fork-server cannot reproduce runs classic instead: interpreter flags that act while Python starts, a cache
 * that is not writable now (classic mode reports why), and any request while the fork-server keeps failing.
 */
public final class ForkServerLauncher implements Launcher {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.forkserver");

    private final PythonLauncher classic;
    private final PythonLauncher.Setup setup;
    private final ForkServers servers;
    private final Map<String, String> startEnvironment;
    private final Path python;
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    /**
     * @param classic          how the same interpreter runs classic: the fallback
     * @param startEnvironment what fork-servers start with (the variables every script starts from)
     */
    public ForkServerLauncher(PythonLauncher classic, PythonLauncher.Setup setup, ForkServers servers,
                              Map<String, String> startEnvironment) {
        this.classic = classic;
        this.setup = setup;
        this.servers = servers;
        this.startEnvironment = Map.copyOf(startEnvironment);
        this.python = classic.python().executable();
    }

    @Override
    public Launch prepare(Command command) {
        Launch plain = classic.prepare(command);
        CacheMode mode = classic.cacheMode();
        List<String> flags = command.interpreter().subList(1, command.interpreter().size());
        Optional<String> unsupported = ForkServerSpec.unsupported(flags, startEnvironment);
        if (unsupported.isPresent()) {
            once(String.join(" ", flags), "{}: its #! flags {} act while Python starts, which a forked child cannot "
                    + "repeat: it runs classic ({})", command.script(), flags, unsupported.get());
            return plain;
        }
        if (mode == CacheMode.OFF) {
            return plain; // classic mode runs and reports the unusable cache
        }
        return new ForkLaunch(command, ForkServers.Key.forScripts(python, flags, mode), plain);
    }

    /** One request for a fork-server, with the classic launch it falls back to. */
    private final class ForkLaunch implements Launch {
        private final Command command;
        private final ForkServers.Key key;
        private final Launch plain;

        ForkLaunch(Command command, ForkServers.Key key, Launch plain) {
            this.command = command;
            this.key = key;
            this.plain = plain;
        }

        @Override
        public Map<String, String> environment() {
            return plain.environment(); // the same cache variables as classic mode
        }

        @Override
        public ScriptProcess start(Map<String, String> env, Path workDir, String logName) throws IOException {
            ScriptUser user = setup.runner().user();
            Cage cage = setup.runner().cage();
            Map<String, String> confined = new HashMap<>(env);
            confined.putAll(setup.runner().confinement(cage));
            ForkRequest request = ForkRequest.of(LoaderProtocol.loaderArgs(classic.loaderMode(key.cache()),
                    setup.validation(), setup.folders().of(command.script()).root(), command.script(), command.args()),
                    confined, workDir)
                    .asUser(user.uid(), user.gid(), user.groups()).withQuickExit(true);
            LoaderReport report = classic.report(command.script());
            classic.compileFirst(command, report);
            Optional<ForkedChild> child = servers.fork(key, request, 2, why -> once(why,
                    "{}: the fork-server will not start it ({}); it runs classic", command.script(), why));
            if (child.isPresent()) {
                ForkedChild forked = child.get();
                report.onCold(cold -> forked.warm(cold.stream().map(LoaderProtocol.Message.Cold::code).toList()));
                return setup.runner().track(forked, logName, report, cage);
            }
            cage.close();
            return plain.start(env, workDir, logName);
        }
    }

    private void once(String what, String format, Object... args) {
        if (warned.add(what)) {
            LOG.warn(format, args);
        }
    }
}
