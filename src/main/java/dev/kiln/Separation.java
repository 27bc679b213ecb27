package dev.kiln;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.kiln.cache.ProcessUser;
import dev.kiln.cgi.SpoolFolder;
import dev.kiln.config.ConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.python.InterpreterRegistry;
import dev.kiln.run.ScriptUser;

/**
 * Decides at start who scripts run as (options script-user and script-group), Apache's {@code User} with
 * suEXEC's refusal of root: Kiln as root always switches, to {@code nobody} unless told otherwise, and never
 * to root; Kiln unprivileged switches when it holds CAP_SETUID, CAP_SETGID and CAP_KILL (to stop what it
 * started); otherwise scripts stay Kiln's user, which is said once.
 */
final class Separation {
    private static final Logger LOG = LoggerFactory.getLogger("kiln");
    private static final String DEFAULT_USER = "nobody";
    private static final String ROOT_CACHE = "/var/cache/kiln";
    private static final long CAP_KILL = 1L << 5;
    private static final long CAP_SETGID = 1L << 6;
    private static final long CAP_SETUID = 1L << 7;

    private Separation() {
    }

    /**
     * @param user  the script-user option, empty for the default
     * @param group the script-group option, empty for the user's own groups
     */
    static ScriptUser decide(String user, String group, ProcessUser kiln) {
        boolean root = kiln.uid() == 0;
        boolean capable = !root && (effectiveCapabilities() & (CAP_SETUID | CAP_SETGID | CAP_KILL))
                == (CAP_SETUID | CAP_SETGID | CAP_KILL);
        if (!root && !capable) {
            if (!user.isEmpty() && !user.equals(kiln.name()) && !user.equals(Integer.toString(kiln.uid()))) {
                throw new ConfigException("script-user " + user + ": Kiln runs as " + kiln.name() + " without "
                        + "CAP_SETUID, CAP_SETGID and CAP_KILL, so it cannot start scripts as another user; fix: "
                        + "start Kiln as root, or with those capabilities (systemd: AmbientCapabilities=CAP_SETUID "
                        + "CAP_SETGID CAP_KILL), or leave script-user empty");
            }
            LOG.warn("scripts run as Kiln's own user {}: they share its trust domain (they can write its cache and "
                    + "read what it reads, as under mod_cgi without suEXEC); to separate them start Kiln as root or "
                    + "with CAP_SETUID, CAP_SETGID and CAP_KILL, and set script-user", kiln.name());
            return ScriptUser.kiln(kiln.name());
        }
        String name = user.isEmpty() ? DEFAULT_USER : user;
        int uid = id(name, "-u");
        int gid = group.isEmpty() ? id(name, "-g") : groupId(group);
        List<Integer> groups = new ArrayList<>();
        if (group.isEmpty()) {
            for (String g : run("id", "-G", "--", name).trim().split("\\s+")) {
                groups.add(Integer.parseInt(g));
            }
        } else {
            groups.add(gid);
        }
        if (uid == 0 || gid == 0 || groups.contains(0)) {
            throw new ConfigException("script-user " + name + (group.isEmpty() ? "" : " script-group " + group)
                    + ": scripts would run as root (uid 0 or group 0) and could change anything Kiln runs or "
                    + "serves; fix: name an unprivileged user and group (default nobody)");
        }
        if (uid == kiln.uid()) {
            LOG.warn("script-user {} is Kiln's own user: scripts share its trust domain", name);
            return ScriptUser.kiln(kiln.name());
        }
        if (!root && !statusIds("Groups:").contains(gid) && !statusIds("Gid:").contains(gid)) {
            throw new ConfigException("script-user " + name + ": its group " + gid + " is not one of Kiln's user "
                    + kiln.name() + ", so Kiln cannot give it read access to the cache (without CAP_CHOWN); fix: "
                    + "usermod -aG " + gid + " " + kiln.name() + ", or set script-group to a group " + kiln.name()
                    + " is in");
        }
        ScriptUser su = new ScriptUser(name, uid, gid, groups);
        LOG.info("scripts run as {} (uid {} gid {} groups {}){}", name, uid, gid, groups,
                root ? "" : ", switched with Kiln's CAP_SETUID and CAP_SETGID");
        return su;
    }

    /**
     * What the script user needs at start: the folders and the configured interpreters reachable, or Kiln stops
     * with the fix; an interpreter only some scripts' shebangs name gets a WARN (those scripts fail alone).
     */
    static void checkReachable(ScriptUser user, List<Path> folders, List<Path> configured, List<Path> named) {
        if (!user.switches()) {
            return;
        }
        List<Path> missing;
        List<Path> missingNamed;
        try {
            missing = user.unreachable(folders, configured);
            missingNamed = user.unreachable(List.of(), named);
        } catch (IOException e) {
            throw new ConfigException("cannot check what script-user " + user.name() + " can reach: "
                    + e.getMessage() + "; fix: install util-linux's setpriv (/usr/bin/setpriv)");
        }
        if (!missing.isEmpty()) {
            throw new ConfigException("script-user " + user.name() + " cannot reach " + missing + "; fix: "
                    + reachFix(missing.get(0)) + ", or set script-user to a user that can");
        }
        for (Path p : missingNamed) {
            LOG.warn("script-user {} cannot run {}, which scripts' #! lines name: those scripts will fail; fix: {}",
                    user.name(), p, reachFix(p));
        }
    }

    /** The configured Python as resolved, and the executable option's interpreter when it is a path. */
    static List<Path> configuredInterpreters(InterpreterRegistry registry, KilnConfig.Interpreters interpreters) {
        List<Path> configured = new ArrayList<>();
        registry.lookup(interpreters.python()).ifPresent(p -> configured.add(p.executable()));
        interpreters.executable().stream().limit(1).filter(c -> c.startsWith("/"))
                .forEach(c -> configured.add(Path.of(c)));
        return configured;
    }

    private static String reachFix(Path p) {
        return "let it enter every folder on the way to " + p + " (chmod o+x on the parents, or the group's) and "
                + "read it";
    }

    /**
     * The cache folder to use: the default one unless the script user cannot reach it (root's home is 0700),
     * then {@value #ROOT_CACHE}, as Apache's /var/cache/apache2.
     */
    static Path cacheFolder(KilnConfig.Folders folders, ScriptUser user) {
        Path cache = folders.cache().toAbsolutePath().normalize();
        if (!user.switches() || !folders.defaults() || reachable(user, existingAncestor(cache))) {
            return cache;
        }
        LOG.info("the default cache {} is out of {}'s reach: using {}", cache, user.name(), ROOT_CACHE);
        return Path.of(ROOT_CACHE);
    }

    /**
     * The scripts folder to serve: the default one (the bundled examples) unless the script user cannot reach it,
     * then a copy Kiln makes in {@code copy}, owned by Kiln and not writable by scripts.
     */
    static Path scriptsFolder(KilnConfig.Folders folders, ScriptUser user, Path copy) throws IOException {
        Path scripts = folders.scripts().toAbsolutePath().normalize();
        if (!user.switches() || !folders.defaults() || !Files.isDirectory(scripts) || reachable(user, scripts)) {
            return scripts;
        }
        if (Files.exists(copy, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> old = Files.walk(copy)) {
                for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        try (Stream<Path> files = Files.walk(scripts)) {
            for (Path from : files.toList()) {
                Path to = copy.resolve(scripts.relativize(from).toString());
                Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                if (Files.isSymbolicLink(to)) {
                    continue;
                }
                Files.setAttribute(to, "unix:mode", Files.isDirectory(to) ? 0755
                        : (Integer) Files.getAttribute(to, "unix:mode") & 0755, LinkOption.NOFOLLOW_LINKS);
            }
        }
        LOG.info("the bundled examples in {} are out of {}'s reach: serving a copy in {}", scripts, user.name(),
                copy);
        return copy;
    }

    /** The request-body spool folder, Kiln's alone, or Kiln stops with the fix. */
    static SpoolFolder spool(Path dir) {
        try {
            return SpoolFolder.prepare(dir);
        } catch (IOException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    private static boolean reachable(ScriptUser user, Path dir) {
        try {
            return user.unreachable(List.of(dir), List.of()).isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private static Path existingAncestor(Path p) {
        Path dir = p;
        while (dir.getParent() != null && !Files.isDirectory(dir)) {
            dir = dir.getParent();
        }
        return dir;
    }

    private static int id(String name, String flag) {
        return Integer.parseInt(run("id", flag, "--", name).trim());
    }

    private static int groupId(String group) {
        if (group.chars().allMatch(Character::isDigit)) {
            return Integer.parseInt(group);
        }
        String line = run("getent", "group", "--", group).trim();
        String[] fields = line.split(":");
        return Integer.parseInt(fields[2]);
    }

    private static String run(String... cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.redirectErrorStream(true);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0 || out.isBlank()) {
                throw new ConfigException("script-user/script-group: " + String.join(" ", cmd) + " found nothing ("
                        + out.trim() + "); fix: name an existing user or group (useradd, groupadd)");
            }
            return out;
        } catch (IOException e) {
            throw new ConfigException("cannot look up the script user with " + cmd[0] + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConfigException("interrupted while looking up the script user");
        }
    }

    /** CapEff of this process, from /proc/self/status; 0 when it cannot be read. */
    private static long effectiveCapabilities() {
        String hex = statusLine("CapEff:");
        return hex.isEmpty() ? 0 : Long.parseUnsignedLong(hex, 16);
    }

    /** The numbers of a line of /proc/self/status such as {@code Groups:} or {@code Gid:}. */
    private static List<Integer> statusIds(String key) {
        List<Integer> ids = new ArrayList<>();
        for (String id : statusLine(key).split("\\s+")) {
            if (!id.isEmpty()) {
                ids.add(Integer.parseInt(id));
            }
        }
        return ids;
    }

    private static String statusLine(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return line.substring(key.length()).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: nothing
        }
        return "";
    }
}
