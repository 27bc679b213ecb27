package dev.kiln.cache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The user Kiln runs as (effective uid from /proc/self/status), for ownership checks and fix commands.
 *
 * @param uid  the effective uid
 * @param name the login name, or the uid when it has none
 */
public record ProcessUser(int uid, String name) {

    public static ProcessUser current() {
        int uid = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    uid = Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall back to the name Java knows
        }
        String name = System.getProperty("user.name", "?");
        if (name.isEmpty() || name.equals("?")) {
            name = Integer.toString(uid);
        }
        return new ProcessUser(uid, name);
    }
}
