package dev.kiln.forkserver;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * A fork-server's folder: mode 0700, so only Kiln's user can reach its socket. It holds {@code fork.sock} and
 * {@code forkserver.log} (the fork-server's own stderr: start-up errors and crashes).
 */
record SocketFolder(Path dir) {
    // sun_path holds 108 bytes; a long java.io.tmpdir would not fit
    private static final int MAX_SOCKET_PATH = 100;

    static SocketFolder create() throws IOException {
        Path parent = Path.of(System.getProperty("java.io.tmpdir"));
        if (parent.toAbsolutePath().toString().length() + 30 > MAX_SOCKET_PATH) {
            parent = Path.of("/tmp");
        }
        return new SocketFolder(Files.createTempDirectory(parent, "kiln-fork-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
    }

    Path socket() {
        return dir.resolve("fork.sock");
    }

    Path log() {
        return dir.resolve("forkserver.log");
    }

    /** The last lines of the fork-server's log, joined with " | ", or "" when it wrote nothing. */
    String logTail() {
        try (RandomAccessFile f = new RandomAccessFile(log().toFile(), "r")) {
            long len = f.length();
            byte[] tail = new byte[(int) Math.min(len, 4096)];
            f.seek(len - tail.length);
            f.readFully(tail);
            List<String> lines = new ArrayList<>();
            for (String line : new String(tail, StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    lines.add(line.strip());
                }
            }
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    /** Removes the folder and what is in it; the fork-server may have done so already. */
    void delete() {
        for (Path p : List.of(socket(), log(), dir)) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // something else was put there: left for the operator, nothing secret in it
            }
        }
    }
}
