package dev.kiln.jvm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compiles one Java program with its JDK's own javac, as a child process, the way the {@code java} launcher
 * compiles a source file (JEP 330, JEP 458): the entry file, and whatever it uses from the {@code .java} files
 * of its folder tree ({@code -sourcepath}). {@code -verbose} says which files it read and which class came first.
 */
final class Javac {
    /** javac is a short-lived JVM: C1 only and the serial collector start it faster, they do not change output. */
    static final List<String> FAST_START = List.of("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC",
            "-J-Dsun.stdout.encoding=UTF-8", "-J-Dsun.stderr.encoding=UTF-8");
    private static final Pattern PARSING = Pattern.compile("^\\[parsing started \\w+\\[(.*)\\]\\]$");
    private static final Pattern CHECKING = Pattern.compile("^\\[checking (\\S+)\\]$");
    private static final Pattern ERROR = Pattern.compile("^(.*\\.java):(\\d+): error: (.*)$");
    /** What javac says under "cannot find symbol": the name that was not found belongs on the error's line. */
    private static final Pattern SYMBOL = Pattern.compile("^\\s+symbol:\\s+(.*)$");
    private static final Pattern PUBLIC_TYPE = Pattern.compile(
            "(?m)^\\s*public\\s+(?:(?:final|abstract|sealed|non-sealed|strictfp|static)\\s+)*"
                    + "(?:class|interface|enum|record|@interface)\\s+([A-Za-z_$][A-Za-z0-9_$]*)");

    /**
     * What a compile gave.
     *
     * @param inputs    every source file it read, stamped before it ran
     * @param mainClass the entry file's first class: the one the {@code java} launcher would run
     * @param errors    one {@code file:line: message} per error; empty when it compiled
     * @param classes   the folder of class files (only when it compiled)
     */
    record Outcome(List<Path> inputs, String mainClass, List<String> errors, Path classes) {
    }

    private final Map<String, String> env;
    private final Duration timeout;
    private final JavacArchives archives;

    /** @param env the environment javac runs with (the scripts' PATH and locale) */
    Javac(Map<String, String> env, Duration timeout, JavacArchives archives) {
        this.env = Map.copyOf(env);
        this.timeout = timeout;
        this.archives = archives;
    }

    /** Compiles into {@code work} (a private folder the caller removes afterwards). */
    Outcome compile(JavaProgram program, Path work) throws IOException, InterruptedException {
        Path script = program.script();
        Path folder = script.getParent();
        Path entry = entryFile(script, work);
        Path classes = Files.createDirectory(work.resolve("classes"));
        List<String> cmd = new ArrayList<>(FAST_START);
        cmd.add(0, program.jdk().javac().toString());
        cmd.addAll(archives.options(program.jdk()));
        cmd.addAll(List.of("-verbose", "-implicit:class", "-proc:none", "-encoding", "UTF-8", "-Xmaxerrs", "100",
                "--release", Integer.toString(program.release()), "-sourcepath", folder.toString(),
                "-d", classes.toString()));
        cmd.addAll(program.compileArgs());
        if (!program.classPath().isEmpty()) {
            cmd.addAll(List.of("-cp", program.classPath()));
        }
        cmd.add(entry.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(folder.toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            return new Outcome(List.of(script), null, List.of(script + ":1: javac did not finish within "
                    + timeout.toSeconds() + " s"), null);
        }
        archives.afterCompile(program.jdk());
        return parse(out, p.exitValue(), script, entry, folder, classes);
    }

    /** The file javac is given: the script itself, or a copy named as javac needs with its #! line blanked. */
    private static Path entryFile(Path script, Path work) throws IOException {
        String text = Files.readString(script, StandardCharsets.UTF_8);
        boolean shebang = text.startsWith("#!");
        if (!shebang && script.getFileName().toString().endsWith(".java")) {
            return script;
        }
        if (shebang) {
            int eol = text.indexOf('\n');
            text = eol < 0 ? "" : text.substring(eol); // keeps the line numbers of every error
        }
        Matcher m = PUBLIC_TYPE.matcher(text);
        String stem = script.getFileName().toString().replaceFirst("\\.java$", "").replaceAll("[^A-Za-z0-9_$]", "_");
        String name = m.find() ? m.group(1) : Character.isJavaIdentifierStart(stem.charAt(0)) ? stem : "_" + stem;
        Path copy = Files.createDirectory(work.resolve("src")).resolve(name + ".java");
        Files.writeString(copy, text, StandardCharsets.UTF_8);
        return copy;
    }

    private static Outcome parse(String out, int exit, Path script, Path entry, Path folder, Path classes) {
        Set<Path> inputs = new LinkedHashSet<>();
        inputs.add(script);
        List<String> errors = new ArrayList<>();
        String main = null;
        String dirPrefix = folder + ":";
        for (String line : out.lines().toList()) {
            Matcher m;
            if ((m = PARSING.matcher(line)).matches()) {
                String file = m.group(1);
                if (file.startsWith(dirPrefix)) {
                    inputs.add(folder.resolve(file.substring(dirPrefix.length())).normalize());
                } else if (file.startsWith("/") && !Path.of(file).equals(entry)) {
                    inputs.add(Path.of(file));
                }
            } else if (main == null && (m = CHECKING.matcher(line)).matches()) {
                main = m.group(1);
            } else if ((m = ERROR.matcher(line)).matches()) {
                Path file = Path.of(m.group(1));
                errors.add((file.equals(entry) ? script : file) + ":" + m.group(2) + ": " + m.group(3));
            } else if ((m = SYMBOL.matcher(line)).matches() && !errors.isEmpty()) {
                int last = errors.size() - 1;
                errors.set(last, errors.get(last) + " (" + m.group(1).replaceAll("\\s+", " ") + ")");
            } else if (line.startsWith("error: ")) {
                errors.add(script + ":1: " + line.substring(7));
            }
        }
        if (exit != 0 && errors.isEmpty()) {
            errors.add(script + ":1: javac exited with status " + exit + ": "
                    + out.lines().filter(l -> !l.startsWith("[")).reduce((a, b) -> b).orElse(""));
        }
        if (errors.isEmpty() && main == null) {
            errors.add(script + ":1: declares no class to run");
        }
        return new Outcome(List.copyOf(inputs), main, List.copyOf(errors), errors.isEmpty() ? classes : null);
    }
}
