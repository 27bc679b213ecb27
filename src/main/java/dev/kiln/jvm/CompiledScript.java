package dev.kiln.jvm;

import java.nio.file.Path;
import java.util.List;

/**
 * One compile of a Java script, as the cache holds it: the jar and its main class, or the errors. Both are kept
 * until a file it read changes, so a broken script is not recompiled on every request.
 *
 * @param dir           its entry folder in the cache (one per script, JDK and flags)
 * @param hash          the hash of every source it read (with the JDK and flags): names the jar
 * @param mainClass     the class to run; null when it did not compile
 * @param errors        one {@code file:line: message} per error; empty when it compiled
 * @param inputs        what its freshness is checked against: each source read, and for a failed compile
 *                      the folders searched (a file added there may be what was missing)
 * @param compileMillis how long the compile took
 */
public record CompiledScript(Path dir, String hash, String mainClass, List<String> errors, List<FileStamp> inputs,
                             long compileMillis) {
    public CompiledScript {
        errors = List.copyOf(errors);
        inputs = List.copyOf(inputs);
    }

    public boolean ok() {
        return errors.isEmpty();
    }

    /** The jar of this compile's classes. */
    public Path jar() {
        return dir.resolve(hash + ".jar");
    }

    /** Where its AOT cache (or CDS archive) lives once built: beside the jar, named after it. */
    public Path aotFile(Jdk.AotKind kind) {
        return dir.resolve(hash + "." + kind.extension());
    }

    /** Stat calls only: whether no file it read has changed since. */
    public boolean fresh() {
        return FileStamp.allCurrent(inputs);
    }

    /** Whether its files all look unchanged but for their file keys (see {@link FileStamp#movedOnly()}). */
    public boolean movedOnly() {
        return inputs.stream().allMatch(s -> s.current() || s.movedOnly()) && !fresh();
    }

    /** The same compile, its inputs stamped as they are now. */
    public CompiledScript restamped() {
        return new CompiledScript(dir, hash, mainClass, errors, inputs.stream().map(s -> FileStamp.of(s.path()))
                .toList(), compileMillis);
    }
}
