package dev.kiln.jvm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One Java script as its {@code #!} line (or the {@code java} option) says to run it. The shebang's words are
 * split the way the {@code java} launcher reads them: {@code --source N} is the compile's release,
 * {@code --enable-preview} applies to the compile and the run, a class path is added to both, and every other
 * word is the run's.
 *
 * @param script      the script file
 * @param jdk         the JDK that compiles and runs it
 * @param release     the {@code --release} it is compiled for
 * @param sourceFlag  whether the shebang gave {@code --source N} (a file not named .java needs it)
 * @param compileArgs what javac is given besides release, source path and output
 * @param classPath   the shebang's class path, empty when none
 * @param runArgs     the JVM options the run is given before {@code -cp}
 */
public record JavaProgram(Path script, Jdk jdk, int release, boolean sourceFlag, List<String> compileArgs,
                          String classPath, List<String> runArgs) {
    public JavaProgram {
        compileArgs = List.copyOf(compileArgs);
        runArgs = List.copyOf(runArgs);
    }

    /** Reads a shebang's words after {@code java}. */
    public static JavaProgram of(Path script, Jdk jdk, List<String> words) {
        int release = jdk.feature();
        boolean source = false;
        List<String> compile = new ArrayList<>();
        List<String> run = new ArrayList<>();
        String classPath = "";
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            boolean hasNext = i + 1 < words.size();
            if (w.equals("--source") && hasNext && words.get(i + 1).matches("[0-9]+")) {
                release = Integer.parseInt(words.get(++i));
                source = true;
            } else if (w.startsWith("--source=") && w.substring(9).matches("[0-9]+")) {
                release = Integer.parseInt(w.substring(9));
                source = true;
            } else if ((w.equals("-cp") || w.equals("-classpath") || w.equals("--class-path")) && hasNext) {
                classPath = words.get(++i);
            } else if (w.equals("--add-modules") && hasNext) {
                compile.add(w);
                compile.add(words.get(i + 1));
                run.add(w);
                run.add(words.get(++i));
            } else {
                if (w.equals("--enable-preview")) {
                    compile.add(w);
                }
                run.add(w);
            }
        }
        return new JavaProgram(script, jdk, release, source, compile, classPath, run);
    }

    /** Whether it is a file {@code java} runs as source: named .java, or its shebang says {@code --source N}. */
    public boolean runnable() {
        return sourceFlag || script.getFileName().toString().endsWith(".java");
    }

    /** What tells two compiles of the same file apart besides its sources: the JDK and every flag. */
    public String flagsKey() {
        return jdk.java() + "\n" + jdk.version() + "\n" + release + "\n" + compileArgs + "\n" + classPath;
    }
}
