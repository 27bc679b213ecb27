package dev.kiln.cgi;

import dev.kiln.run.Command;
import dev.kiln.run.Launcher;

/** What the planner decided for one script: run it with a launcher, or why it does not run. */
public sealed interface Plan {
    /** Runs {@code command} through {@code launcher}. */
    record Run(Launcher launcher, Command command) implements Plan {
    }

    /**
     * Not a script Kiln runs (403): no {@code #!} line and no interpreter for its name, unreadable, or writable by
     * others.
     */
    record Refuse(String why) implements Plan {
    }

    /** A script whose interpreter is missing or broken (500): the server's side must be fixed. */
    record CannotStart(String why) implements Plan {
    }
}
