package dev.kiln.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.kiln.config.ConfigException;
import dev.kiln.config.Option;

/**
 * The jar's command line: {@code [serve|precompile|prune] [--name value | --name=value]... [--help] [--version]}.
 *
 * @param options  flag values by option key
 */
record CommandLine(SubCommand command, Map<String, String> options, boolean help, boolean version) {
    static CommandLine parse(String[] args) {
        SubCommand command = SubCommand.SERVE;
        Map<String, String> options = new LinkedHashMap<>();
        boolean help = false;
        boolean version = false;
        List<String> rest = new ArrayList<>(List.of(args));
        if (!rest.isEmpty() && !rest.get(0).startsWith("-")) {
            String word = rest.remove(0);
            command = SubCommand.byWord(word).orElseThrow(() -> new ConfigException("unknown command '" + word
                    + "': expected one of " + String.join(", ", SubCommand.words())));
        }
        for (int i = 0; i < rest.size(); i++) {
            String arg = rest.get(i);
            if (arg.equals("--help") || arg.equals("-h")) {
                help = true;
                continue;
            }
            if (arg.equals("--version")) {
                version = true;
                continue;
            }
            if (!arg.startsWith("--")) {
                throw new ConfigException("unexpected argument '" + arg + "': options are written --name value");
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (Option.byKey(name).isEmpty()) {
                throw new ConfigException("unknown option '--" + name + "'; run with --help for the list of options");
            }
            if (value == null) {
                if (i + 1 >= rest.size()) {
                    throw new ConfigException("option --" + name + " needs a value ("
                            + Option.byKey(name).get().metavar() + ")");
                }
                value = rest.get(++i);
            }
            if (Option.byKey(name).get().repeatable()) {
                options.merge(name, value, (earlier, later) -> earlier + Option.REPEATED_SEPARATOR + later);
            } else {
                options.put(name, value);
            }
        }
        return new CommandLine(command, options, help, version);
    }

    static String usage() {
        StringBuilder b = new StringBuilder();
        b.append("Usage: java -jar kiln.jar [").append(String.join("|", SubCommand.words())).append("] [options]\n\n");
        for (SubCommand c : SubCommand.values()) {
            b.append("  ").append(c.word()).append(" ".repeat(13 - c.word().length())).append(c.help()).append('\n');
        }
        b.append("\nOptions (each also KILN_<NAME> in the environment and NAME=value in --config):\n");
        for (Option o : Option.values()) {
            String left = "  " + o.flag() + " " + o.metavar();
            b.append(left).append(" ".repeat(Math.max(2, 36 - left.length()))).append(o.help());
            if (!o.defaultValue().isEmpty()) {
                b.append(" [").append(o.defaultValue()).append("]");
            }
            b.append('\n');
        }
        b.append("  --help                            this text\n  --version                         the version\n");
        return b.toString();
    }
}
