package dev.kiln.python;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import dev.kiln.cache.BytecodeCache;
import dev.kiln.cache.CacheMode;
import dev.kiln.config.PycValidation;

/**
 * Compiles every Python script under the scripts folder, and the modules each imports, into the cache, with
 * the interpreter each script would run with. Import resolution happens in Kiln's Python helper, the way Python
 * would resolve it for that script, without running any of the scripts' code.
 */
public final class Precompiler {

    /** Totals of one precompile run; {@code errors} lists {@code file:line: message}. */
    public record Summary(int scripts, int compiled, int fresh, List<String> errors, List<String> failures) {
        public boolean ok() {
            return errors.isEmpty() && failures.isEmpty();
        }

        /**
         * The counts as one sentence that adds up: compiled, fresh and failed are files (the scripts and the
         * modules they import), and their sum is said, apart from the script count.
         */
        public String describe() {
            int files = compiled + fresh + errors.size();
            return "of " + files + " files (the scripts and the modules they import) " + compiled + " compiled, "
                    + fresh + " already fresh, " + errors.size() + " with errors"
                    + (failures.isEmpty() ? "" : "; " + failures.size() + " interpreter runs failed");
        }
    }

    /** Receives progress: {@code done} of {@code total} scripts, the one being compiled now. */
    public interface Progress {
        void update(int done, int total, String current);

        Progress NONE = (d, t, c) -> { };
    }

    private final PythonScripts python;
    private final RuntimeFiles runtime;
    private final BytecodeCache cache;
    private final PycValidation validation;
    private final Path scriptsRoot;
    private final Map<String, String> scriptEnv;

    /** @param scriptEnv the variables every script starts from (PATH decides what python3 means) */
    public Precompiler(PythonScripts python, RuntimeFiles runtime, BytecodeCache cache, PycValidation validation,
                       Path scriptsRoot, Map<String, String> scriptEnv) {
        this.python = python;
        this.runtime = runtime;
        this.cache = cache;
        this.validation = validation;
        this.scriptsRoot = scriptsRoot;
        this.scriptEnv = scriptEnv;
    }

    /** Every file under the folder that would run as Python, grouped by interpreter and its flags. */
    Map<List<String>, List<Path>> pythonScripts() throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(scriptsRoot)) {
            files = walk.filter(Files::isRegularFile).filter(this::visible).sorted().toList();
        }
        return byInterpreter(files);
    }

    private Map<List<String>, List<Path>> byInterpreter(List<Path> files) throws IOException {
        Map<List<String>, List<Path>> groups = new LinkedHashMap<>();
        for (Path f : files) {
            Optional<PythonScripts.PythonTarget> t = python.pythonFor(f);
            if (t.isEmpty() || !t.get().interpreter().cacheable()) {
                continue;
            }
            List<String> cmd = new ArrayList<>();
            cmd.add(t.get().interpreter().executable().toString());
            // only the flags that change where bytecode goes (-O, -OO) matter for compiling
            t.get().args().stream().filter(a -> a.equals("-O") || a.equals("-OO")).forEach(cmd::add);
            groups.computeIfAbsent(cmd, k -> new ArrayList<>()).add(f);
        }
        return groups;
    }

    private boolean visible(Path file) {
        for (Path part : scriptsRoot.relativize(file)) {
            String n = part.toString();
            if (n.startsWith(".") || n.equals("__pycache__")) {
                return false;
            }
        }
        return true;
    }

    public Summary run(Progress progress) throws IOException, InterruptedException {
        return compile(null, progress);
    }

    /**
     * Compiles one script and the modules it imports (Kiln's side, when scripts only read the cache); nothing
     * while the cache is not writable, which the cache reports itself.
     */
    public Summary compile(Path script) throws IOException, InterruptedException {
        if (cache.mode() != CacheMode.RW) {
            return new Summary(0, 0, 0, List.of(), List.of());
        }
        return compile(script, Progress.NONE);
    }

    private Summary compile(Path script, Progress progress) throws IOException, InterruptedException {
        if (cache.mode() != CacheMode.RW) {
            return new Summary(0, 0, 0, List.of(), List.of("cache " + cache.root() + " is not writable ("
                    + cache.lastError() + ")"));
        }
        Map<List<String>, List<Path>> groups = script == null ? pythonScripts() : byInterpreter(List.of(script));
        int total = groups.values().stream().mapToInt(List::size).sum();
        int[] done = {0};
        int compiled = 0;
        int fresh = 0;
        List<String> errors = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (Map.Entry<List<String>, List<Path>> g : groups.entrySet()) {
            List<String> cmd = new ArrayList<>(g.getKey());
            cmd.addAll(LoaderProtocol.precompileArgs(runtime.current().precompiler(), validation, scriptsRoot,
                    g.getValue()));
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(scriptsRoot.toFile());
            pb.environment().clear();
            pb.environment().putAll(scriptEnv);
            pb.environment().remove("PYTHONDONTWRITEBYTECODE");
            pb.environment().put("PYTHONPYCACHEPREFIX", cache.prefix().toString());
            pb.redirectError(ProcessBuilder.Redirect.PIPE);
            Process proc = pb.start();
            proc.getOutputStream().close();
            StringBuilder stderr = new StringBuilder();
            Thread errPump = new Thread(() -> {
                try {
                    stderr.append(new String(proc.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // reported through the exit code
                }
            }, "kiln-precompile-stderr");
            errPump.start();
            int base = done[0];
            try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    LoaderProtocol.PrecompileEvent ev = LoaderProtocol.precompileEvent(line);
                    if (ev instanceof LoaderProtocol.PrecompileEvent.Script sc) {
                        done[0] = base + Math.max(sc.index(), 1) - 1;
                        progress.update(done[0], total, scriptsRoot.relativize(sc.path()).toString());
                    } else if (ev instanceof LoaderProtocol.PrecompileEvent.Error e) {
                        errors.add(e.path() + ":" + (e.line() == null ? "?" : e.line()) + ": " + e.message());
                    } else if (ev instanceof LoaderProtocol.PrecompileEvent.Summary sum) {
                        compiled += sum.compiled();
                        fresh += sum.fresh();
                    }
                }
            }
            int exit = proc.waitFor();
            errPump.join();
            done[0] = base + g.getValue().size();
            progress.update(done[0], total, "");
            for (String l : stderr.toString().lines().toList()) {
                if (l.startsWith(LoaderProtocol.MARKER) && LoaderProtocol.parse(
                        l.substring(LoaderProtocol.MARKER.length())) instanceof LoaderProtocol.Message.CacheError e) {
                    cache.reported(e.op(), e.errno(), e.path(), e.dir());
                }
            }
            if (exit != 0 && exit != 1) {
                failures.add(String.join(" ", g.getKey()) + " exited with status " + exit + ": "
                        + stderr.toString().strip().lines().reduce((a, b) -> b).orElse(""));
            }
        }
        return new Summary(total, compiled, fresh, List.copyOf(errors), List.copyOf(failures));
    }

    /** A progress bar on a terminal, nothing otherwise (the summary says it all). */
    public static Progress bar(PrintStream out) {
        return (done, total, current) -> {
            int width = 30;
            int filled = total == 0 ? width : done * width / total;
            String name = current.length() > 40 ? "..." + current.substring(current.length() - 37) : current;
            out.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + done + "/" + total + " "
                    + name + " ".repeat(Math.max(0, 40 - name.length())));
            if (done == total) {
                out.println();
            }
            out.flush();
        };
    }
}
