package dev.kiln.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who scripts run as. Every exec'd script starts through {@link #execPrefix()} (util-linux {@code setpriv}), and a
 * fork-server's child drops to the same ids before any script code: one identity for every run mode.
 *
 * @param name   the user's name, for log lines and fixes
 * @param uid    the user, or -1 when scripts stay Kiln's own user
 * @param gid    the primary group, or -1
 * @param groups the supplementary groups
 */
public record ScriptUser(String name, int uid, int gid, List<Integer> groups) {
    private static final String SETPRIV = "/usr/bin/setpriv";

    public ScriptUser {
        groups = List.copyOf(groups);
    }

    /** Scripts run as Kiln's own user: nothing is switched. */
    public static ScriptUser kiln(String name) {
        return new ScriptUser(name, -1, -1, List.of());
    }

    /** Whether scripts run as another user than Kiln's. */
    public boolean switches() {
        return uid >= 0;
    }

    /**
     * What goes before an exec'd script's command line: {@code setpriv} with a parent-death SIGKILL (a script
     * dies with Kiln) and, when scripts run as another user, the ids and every capability Kiln may hold dropped
     * (clearing the inheritable set empties the ambient one, so nothing survives the exec).
     */
    public List<String> execPrefix() {
        if (!switches()) {
            return List.of(SETPRIV, "--pdeathsig", "KILL", "--");
        }
        // the parent-death signal in the same call as the uid change, which would clear one set before it
        List<String> prefix = new ArrayList<>(List.of(SETPRIV, "--pdeathsig", "KILL", "--reuid=" + uid,
                "--regid=" + gid));
        prefix.add(groups.isEmpty() ? "--clear-groups" : "--groups=" + groupList());
        prefix.add("--inh-caps=-all");
        prefix.add("--");
        return prefix;
    }

    /**
     * {@code env} for Kiln's own Python processes (fork-servers, the precompiler), with {@code KILN_SCRIPT_IDS} when
     * scripts run as another user: they write bytecode the script user can read only for sources it can read.
     */
    public Map<String, String> kilnSide(Map<String, String> env) {
        Map<String, String> out = new LinkedHashMap<>(env);
        if (switches()) {
            out.put("KILN_SCRIPT_IDS", uid + ":" + gid + ":" + groupList());
        }
        return out;
    }

    private String groupList() {
        StringBuilder list = new StringBuilder();
        groups.forEach(g -> list.append(list.length() == 0 ? "" : ",").append(g));
        return list.toString();
    }

    /**
     * The paths of {@code folders} this user cannot enter and list, and of {@code executables} it cannot run,
     * found by asking the system as that user (ACLs and every parent folder count, as they do for a script).
     */
    public List<Path> unreachable(List<Path> folders, List<Path> executables) throws IOException {
        List<String> cmd = new ArrayList<>(execPrefix());
        cmd.addAll(List.of("/bin/sh", "-c", "for p; do case $p in d*) test -r \"${p#?}\" && test -x \"${p#?}\" ;; "
                + "*) test -x \"${p#?}\" ;; esac || printf '%s\\n' \"${p#?}\"; done", "sh"));
        folders.forEach(f -> cmd.add("d" + f));
        executables.forEach(f -> cmd.add("x" + f));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(Path.of("/").toFile());
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("cannot run " + String.join(" ", execPrefix()) + " /bin/sh: " + out.trim());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while checking what " + name + " can reach");
        }
        List<Path> missing = new ArrayList<>();
        out.lines().filter(l -> !l.isEmpty()).forEach(l -> missing.add(Path.of(l)));
        return missing;
    }
}
