package dev.kiln.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The URL-PREFIX=FOLDER items of script-alias and static (Apache's ScriptAlias and Alias lines), and the rule that
 * no two URL prefixes overlap: a URL must say by itself whether it names a script or a file, and which folder.
 */
final class Aliases {
    /** A comma starts the next item only where a /PREFIX= follows it, so a folder's name may hold commas. */
    private static final Pattern NEXT = Pattern.compile(",(?=\\s*/[^,=]*=)");
    /** Plain segments: a servlet mapping matches the decoded path, so a prefix has nothing to decode. */
    private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9_~][A-Za-z0-9._~-]*)+/?");
    /** Kiln's own pages. */
    private static final String RESERVED = "/kiln";

    private Aliases() {
    }

    /** Items given once per flag (a repeated flag) or comma-separated (environment, file, init-param). */
    static List<KilnConfig.Alias> parse(Option o, String source, String raw, Function<String, Path> folder) {
        List<KilnConfig.Alias> out = new ArrayList<>();
        for (String given : raw.split(Option.REPEATED_SEPARATOR)) {
            for (String item : NEXT.split(given)) {
                if (item.isBlank()) {
                    continue;
                }
                int eq = item.indexOf('=');
                String prefix = eq < 0 ? "" : item.substring(0, eq).trim();
                String dir = eq < 0 ? "" : item.substring(eq + 1).trim();
                if (!PREFIX.matcher(prefix).matches() || dir.isEmpty()) {
                    throw Values.bad(o, source, item, "URL-PREFIX=FOLDER, the prefix made of /segment parts "
                            + "(letters, digits, . _ ~ -), such as /static/=/srv/www/static");
                }
                String bare = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
                out.add(new KilnConfig.Alias(bare, folder.apply(dir)));
            }
        }
        return List.copyOf(out);
    }

    /** Every prefix is its own: none equal to, inside or around another, nor Kiln's own /kiln/. */
    static void checkPrefixes(List<KilnConfig.Alias> scriptAliases, List<KilnConfig.Alias> statics) {
        List<KilnConfig.Alias> all = new ArrayList<>(scriptAliases);
        all.addAll(statics);
        for (int i = 0; i < all.size(); i++) {
            KilnConfig.Alias a = all.get(i);
            if (within(a.prefix(), RESERVED) || within(RESERVED, a.prefix())) {
                throw new ConfigException("URL prefix " + a.prefix() + "/ (" + what(a, scriptAliases)
                        + ") overlaps Kiln's own pages under " + RESERVED + "/; fix: choose another prefix");
            }
            for (int j = 0; j < i; j++) {
                KilnConfig.Alias b = all.get(j);
                if (within(a.prefix(), b.prefix()) || within(b.prefix(), a.prefix())) {
                    throw new ConfigException("URL prefixes overlap: " + b.prefix() + "/ (" + what(b, scriptAliases)
                            + ") and " + a.prefix() + "/ (" + what(a, scriptAliases) + "), so a URL under both "
                            + "could name a script or a file; fix: give each its own prefix (the scripts folder "
                            + "is served at /cgi-bin/: set scripts to change its folder)");
                }
            }
        }
    }

    private static String what(KilnConfig.Alias a, List<KilnConfig.Alias> scriptAliases) {
        return (scriptAliases.contains(a) ? "scripts " : "static files ") + a.folder();
    }

    /** Whether {@code path} is {@code prefix} or below it, segment-wise. */
    static boolean within(String path, String prefix) {
        return path.equals(prefix) || path.startsWith(prefix + "/");
    }
}
