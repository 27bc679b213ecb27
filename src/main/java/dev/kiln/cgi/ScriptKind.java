package dev.kiln.cgi;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A kind of script that Kiln runs through a launcher of its own instead of plain exec: Python today (its
 * bytecode comes from the shared cache). The planner asks each kind in turn.
 */
public interface ScriptKind {
    /** Whether an interpreter named by a {@code #!} line (after {@code env}) is of this kind, e.g. python3. */
    boolean interprets(String interpreter);

    /** Whether a file without a {@code #!} line is of this kind by its name, e.g. {@code app.py}. */
    boolean claims(Path script);

    /**
     * Why a file of this kind is one scripts use rather than clients run (refused with 403, never listed), e.g.
     * a Java helper class without a main method; empty for a script.
     */
    default Optional<String> imported(Path script) {
        return Optional.empty();
    }

    /**
     * How to run a script of this kind.
     *
     * @param interpreter     as the {@code #!} line names it, or null for a file claimed by its name (the
     *                        configured default interpreter)
     * @param interpreterArgs the {@code #!} line's words after the interpreter
     * @return a {@link Plan.Run}, or a {@link Plan.CannotStart} saying why the interpreter cannot be used
     */
    Plan plan(String interpreter, List<String> interpreterArgs, Path script, List<String> args);
}
