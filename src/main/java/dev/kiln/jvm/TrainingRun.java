package dev.kiln.jvm;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import dev.kiln.run.ExecLaunch;
import dev.kiln.run.ScriptProcess;
import dev.kiln.run.ScriptRunner;
import dev.kiln.run.StderrFilter;

/**
 * A start-up cache's training run: the script's own code, so it runs as a request does (the script user, the
 * limits, a cgroup, the timeouts; its stderr logged as the script's), with no stdin and its stdout dropped. It
 * writes its cache into a folder of its own that the script user may write (the cache's group, when scripts run
 * as another user); Kiln copies the file from there, so what it later loads is Kiln's file, not the script user's.
 */
record TrainingRun(ScriptRunner runner) {
    /**
     * The environment of a training run: a plain GET, not a replay of a request. From a request's: no query string,
     * body, cookies or credentials; {@code KILN_TRAINING_RUN=1} for scripts that want to skip work.
     */
    static Map<String, String> environment(Map<String, String> request) {
        Map<String, String> env = new HashMap<>(request);
        env.keySet().removeIf(k -> k.startsWith("HTTP_") || k.startsWith("CONTENT_") || k.equals("AUTH_TYPE")
                || k.equals("REMOTE_USER") || k.equals("PATH_INFO") || k.equals("PATH_TRANSLATED"));
        env.put("GATEWAY_INTERFACE", "CGI/1.1");
        env.put("REQUEST_METHOD", "GET");
        env.put("QUERY_STRING", "");
        env.put("REQUEST_URI", env.getOrDefault("SCRIPT_NAME", ""));
        env.put("KILN_TRAINING_RUN", "1");
        return Map.copyOf(env);
    }

    /**
     * What {@code precompile} trains with, with no request at all: the scripts' base variables, the script's name
     * and file, and the plain GET above.
     */
    static Map<String, String> withoutRequest(Map<String, String> base, String relative, Path script) {
        Map<String, String> env = new HashMap<>(base);
        env.put("SCRIPT_NAME", "/cgi-bin/" + relative);
        env.put("SCRIPT_FILENAME", script.toString());
        env.put("SERVER_PROTOCOL", "HTTP/1.1");
        return environment(env);
    }

    /** A folder for the training run's output beside the jar, writable by the script user where it is another. */
    static Path outputFolder(Path entryDir) throws IOException {
        Path dir = Files.createTempDirectory(entryDir, ".train-");
        boolean shared = JavaCache.fileModeIn(entryDir).contains(PosixFilePermission.GROUP_READ);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(shared ? "rwxrwx---" : "rwx------"));
        return dir;
    }

    /** Runs it; null when it exited 0, else why not. */
    String run(List<String> argv, Map<String, String> env, Path workDir, String script)
            throws IOException, InterruptedException {
        try (ScriptProcess p = new ExecLaunch(runner, argv, Map.of(), false, StderrFilter.NONE).start(env, workDir,
                "kiln.script." + script)) {
            p.feedStdin(null);
            int exit = p.pumpStdout(OutputStream.nullOutputStream(), Integer.MAX_VALUE).get();
            if (p.stopReason() != null) {
                return "the training run was stopped: " + p.stopReason().description;
            }
            return exit == 0 ? null : "the training run failed (exit status " + exit + ")";
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        }
    }
}
