package dev.kiln.cgi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import dev.kiln.run.ScriptUser;

/**
 * Apache's rule (option require-exec): a CGI without the execute bit that applies to the user who runs it is not
 * run, so {@code chmod -x} disables a script. For a separate script user the owner, group and other bits are read
 * as exec(2) reads them for that user (Kiln, as root, would pass any access(2) test); for Kiln's own user
 * access(2) answers, which also counts ACLs and gives root any one x bit, as exec does.
 */
final class ExecuteBit {
    private final ScriptUser user;
    private final boolean required;

    /** @param required the require-exec option; when false every script passes */
    ExecuteBit(ScriptUser user, boolean required) {
        this.user = user;
        this.required = required;
    }

    /** Why {@code script} must not run, or empty. */
    Optional<String> refusal(Path script) {
        if (!required || executable(script)) {
            return Optional.empty();
        }
        return Optional.of("Permission denied: exec: it has no execute bit for " + (user.switches()
                ? "the script user " + user.name() : "Kiln's user") + "; fix: chmod +x " + script
                + ", or set require-exec=false");
    }

    private boolean executable(Path script) {
        if (!user.switches()) {
            return Files.isExecutable(script);
        }
        try {
            Map<String, Object> attrs = Files.readAttributes(script, "unix:mode,uid,gid");
            int mode = (Integer) attrs.get("mode");
            if ((Integer) attrs.get("uid") == user.uid()) {
                return (mode & 0100) != 0;
            }
            int group = (Integer) attrs.get("gid");
            if (group == user.gid() || user.groups().contains(group)) {
                return (mode & 010) != 0;
            }
            return (mode & 01) != 0;
        } catch (IOException | UnsupportedOperationException e) {
            return true; // cannot tell: starting it will say what is wrong
        }
    }
}
