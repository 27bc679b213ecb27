package dev.kiln.server;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** What {@code java -jar kiln.jar [command]} does; the word is the first argument, serve when there is none. */
enum SubCommand {
    SERVE("serve", "run the server (default)"),
    PRECOMPILE("precompile", "compile every script under --scripts and the modules they import into --cache"),
    PRUNE("prune", "remove cached bytecode of sources that are gone or interpreters that are gone"),
    CONFIG("config", "print the effective configuration and where each value came from; validate, do not start");

    private final String word;
    private final String help;

    SubCommand(String word, String help) {
        this.word = word;
        this.help = help;
    }

    String word() {
        return word;
    }

    String help() {
        return help;
    }

    static List<String> words() {
        return Arrays.stream(values()).map(SubCommand::word).toList();
    }

    static Optional<SubCommand> byWord(String word) {
        return Arrays.stream(values()).filter(c -> c.word.equals(word)).findFirst();
    }
}
