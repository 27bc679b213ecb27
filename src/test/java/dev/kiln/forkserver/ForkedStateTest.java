package dev.kiln.forkserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.kiln.forkserver.ForkFixture.Run;

/**
 * The differential test: a probe dumps what a script can see of its interpreter (globals, sys, environment, stdio,
 * locale, time zone, signals, fds, limits, session...) as a fork-server child and as a classic
 * {@code python kiln_boot.py rw timestamp ROOT probe.py}, with the same environment and working folder, under
 * several locales, per-request variables and interpreter flags. Field by field they must be equal, except:
 * <ul>
 * <li>{@code ppid}: the fork-server, not Kiln;</li>
 * <li>{@code sigblk}/{@code sigmask}: empty in a child; classic inherits the JVM's (SIGQUIT blocked);</li>
 * <li>{@code fdkinds}: sockets, not pipes;</li>
 * <li>{@code modules}: a child has the preloaded modules too, and nothing else more;</li>
 * <li>{@code depth}: with a quick exit, one more Kiln frame below the script's.</li>
 * </ul>
 */
class ForkedStateTest {
    private static final Set<String> DOCUMENTED = Set.of("ppid", "sigblk", "sigmask", "fdkinds", "modules",
            "depth");

    @RegisterExtension
    final ForkFixture fx = new ForkFixture();

    Path probe;

    @BeforeEach
    void setUp() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("probe.py")) {
            probe = fx.write("app/probe.py", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        Files.createDirectories(fx.scripts.resolve("app/lib"));
    }

    @Test
    void utf8LocaleTimeZoneAndNonAsciiVariables() throws Exception {
        Map<String, String> extra = cgi();
        extra.put("TZ", "Europe/Paris");
        compare(List.of(), fx.baseEnv(), extra);
    }

    @Test
    void noLocaleVariableAtAllWithPerRequestIoEncodingAndRelativePythonPath() throws Exception {
        Map<String, String> env = fx.baseEnv();
        env.remove("LANG");
        Map<String, String> extra = cgi();
        extra.put("PYTHONIOENCODING", "latin-1:replace");
        extra.put("TZ", "America/New_York");
        extra.put("PYTHONPATH", "lib::/usr/lib/python3/dist-packages:" + fx.base);
        compare(List.of(), env, extra);
    }

    @Test
    void cLocaleAndAbsolutePythonPathSharedWithTheServer() throws Exception {
        Map<String, String> env = fx.baseEnv();
        env.put("LANG", "C");
        env.put("PYTHONPATH", fx.base.toString());
        compare(List.of(), env, cgi());
        Map<String, String> other = cgi();
        other.put("PYTHONPATH", fx.scripts.resolve("app/lib") + ":" + fx.base);
        compare(List.of(), env, other);
    }

    @Test
    void interpreterFlags() throws Exception {
        Map<String, String> extra = cgi();
        extra.put("PYTHONPATH", "lib");
        extra.put("PYTHONIOENCODING", "ascii:backslashreplace");
        for (List<String> flags : List.of(List.of("-u", "-O"), List.of("-I"), List.of("-S", "-B"),
                List.of("-E", "-s", "-X", "utf8"), List.of("-OO", "-W", "error::DeprecationWarning", "-X", "dev"))) {
            compare(flags, fx.baseEnv(), extra);
        }
    }

    private Map<String, String> cgi() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("GATEWAY_INTERFACE", "CGI/1.1");
        env.put("REQUEST_METHOD", "GET");
        env.put("PATH_INFO", "/a b/café/✓");
        env.put("QUERY_STRING", "q=%C3%A9");
        env.put("HTTP_USER_AGENT", "test ünïcode");
        env.put("SCRIPT_FILENAME", probe.toString());
        return env;
    }

    private void compare(List<String> flags, Map<String, String> serverEnv, Map<String, String> extra)
            throws Exception {
        Map<String, String> env = new LinkedHashMap<>(serverEnv);
        env.putAll(extra);
        Map<String, String> classic;
        List<Map<String, String>> forked = new ArrayList<>();
        try (ForkServer server = ForkServer.start(fx.spec(flags, serverEnv, ForkFixture.DEFAULT_PRELOAD))) {
            fx.classic(flags, probe, env, null);    // compiles the probe: both runs below find it cached
            classic = fields(fx.classic(flags, probe, env, null));
            for (int i = 0; i < 4; i++) {     // each child sees nothing of the one before; half end quick
                fx.quickExit = i % 2 == 1;
                forked.add(fields(fx.fork(server, probe, env, null)));
            }
        }
        String variant = flags + " " + extra.keySet();
        for (int i = 0; i < forked.size(); i++) {
            Map<String, String> child = forked.get(i);
            int depth = Integer.parseInt(classic.get("depth")) + i % 2;
            assertThat(child.get("depth")).as(variant + " depth, quick exit " + (i % 2 == 1)).isEqualTo("" + depth);
            for (String name : classic.keySet()) {
                if (!DOCUMENTED.contains(name)) {
                    assertThat(child.get(name)).as(variant + " " + name).isEqualTo(classic.get(name));
                }
            }
            assertThat(child.keySet()).isEqualTo(classic.keySet());
            assertThat(child.get("sigmask")).as(variant).isEqualTo("[]");
            assertThat(child.get("sigblk")).as(variant).isEqualTo("\"0000000000000000\"");
            assertThat(child.get("fdkinds")).as(variant).isEqualTo("[49152, 49152, 49152]");      // S_IFSOCK
            Set<String> extraModules = new TreeSet<>(names(child.get("modules")));
            assertThat(extraModules).as(variant).containsAll(names(classic.get("modules")));
            extraModules.removeAll(names(classic.get("modules")));
            assertThat(extraModules).as(variant + ": only the preload").isSubsetOf(preloadClosure(flags, env));
        }
        assertThat(classic.get("ppid")).isNotEqualTo(forked.get(0).get("ppid"));
    }

    private Set<String> preloadClosure(List<String> flags, Map<String, String> env) throws Exception {
        Path lister = fx.write("app/closure.py", "import sys\ns = set(sys.modules)\nimport "
                + String.join(", ", ForkFixture.DEFAULT_PRELOAD) + "\nprint(*sorted(set(sys.modules) - s))\n");
        Run run = fx.classic(flags, lister, env, null);
        return new TreeSet<>(List.of(run.stdout().trim().split(" ")));
    }

    private static List<String> names(String jsonList) {
        List<String> names = new ArrayList<>();
        for (String item : jsonList.replaceAll("^\\[|]$", "").split(", ")) {
            names.add(item.replaceAll("^\"|\"$", ""));
        }
        return names;
    }

    private static Map<String, String> fields(Run run) {
        assertThat(run.exit()).as(run.stderr()).isZero();
        Map<String, String> fields = new TreeMap<>();
        for (String line : run.stdout().split("\n")) {
            String[] kv = line.split("\t", 2);
            fields.put(kv[0], kv[1]);
        }
        return fields;
    }
}
