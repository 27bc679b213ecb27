package dev.kiln.forkserver;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import dev.kiln.run.Cage;
import dev.kiln.run.EnvironmentBytes;

/**
 * One script for a fork-server to start, as the bytes the child gets: nothing is re-encoded on the way, whatever
 * Kiln's own locale.
 *
 * @param arguments   what follows {@code kiln_boot.py} on a classic command line: cache mode, validation, scripts
 *                    root, the script, then the script's arguments; for {@link ChildRun#EXEC} the command line
 * @param environment the complete environment, one {@code NAME=value} per entry
 * @param workDir     the working folder
 * @param uid         the user the child becomes before any script code runs, or -1 to stay Kiln's user
 * @param gid         its group, or -1
 * @param groups      its supplementary groups (used with {@code gid})
 * @param run         what the child does: the Python script (ending the quick way or not), or exec
 */
public record ForkRequest(List<byte[]> arguments, List<byte[]> environment, byte[] workDir, int uid, int gid,
                          List<Integer> groups, ChildRun run) {
    static final int HEADER = 16;
    private static final byte[] CAGE = (Cage.VARIABLE + "=").getBytes(StandardCharsets.US_ASCII);

    public ForkRequest {
        arguments = List.copyOf(arguments);
        environment = List.copyOf(environment);
        groups = List.copyOf(groups);
        if (arguments.size() < (run == ChildRun.EXEC ? 1 : 4)) {
            throw new IllegalArgumentException(run == ChildRun.EXEC ? "exec needs a command"
                    : "arguments need mode, validation, root and script");
        }
        for (byte[] a : arguments) {
            requireNoNul(a, "an argument");
        }
        requireNoNul(workDir, "the working folder");
        for (byte[] e : environment) {
            requireNoNul(e, "an environment entry");
            int eq = indexOf(e, (byte) '=');
            if (eq <= 0) {
                throw new IllegalArgumentException("environment entry without NAME=: "
                        + new String(e, StandardCharsets.UTF_8));
            }
        }
    }

    /** A request from strings, each encoded as UTF-8; the child stays Kiln's user. */
    public static ForkRequest of(List<String> arguments, Map<String, String> environment, Path workDir) {
        return of(ChildRun.SCRIPT, arguments, environment, workDir);
    }

    /** A child that execs {@code argv}, from strings encoded as UTF-8; the child stays Kiln's user. */
    public static ForkRequest exec(List<String> argv, Map<String, String> environment, Path workDir) {
        return of(ChildRun.EXEC, argv, environment, workDir);
    }

    private static ForkRequest of(ChildRun run, List<String> arguments, Map<String, String> environment,
                                  Path workDir) {
        List<byte[]> args = new ArrayList<>(arguments.size());
        for (String a : arguments) {
            args.add(a.getBytes(StandardCharsets.UTF_8));
        }
        List<byte[]> env = new ArrayList<>(environment.size());
        environment.forEach((k, v) -> env.add(EnvironmentBytes.encode(k + '=' + v)));
        return new ForkRequest(args, env, workDir.toString().getBytes(StandardCharsets.UTF_8), -1, -1, List.of(),
                run);
    }

    /** The same request, run as {@code uid}/{@code gid} with {@code groups} as supplementary groups. */
    public ForkRequest asUser(int uid, int gid, List<Integer> groups) {
        return new ForkRequest(arguments, environment, workDir, uid, gid, groups, run);
    }

    /** The same Python request, ending the quick way or the interpreter's. */
    public ForkRequest withQuickExit(boolean quick) {
        if (run == ChildRun.EXEC) {
            throw new IllegalStateException("an exec request has no Python exit");
        }
        return new ForkRequest(arguments, environment, workDir, uid, gid, groups,
                quick ? ChildRun.SCRIPT_QUICK_EXIT : ChildRun.SCRIPT);
    }

    /**
     * Whether the fork-server starts it without a fork (posix_spawn, kiln_forkspawn.py) and so reports its pid on
     * CONTROL: an exec that needs nothing the child must do for itself before exec, no user switch, no cgroup.
     */
    boolean spawns() {
        return run == ChildRun.EXEC && uid < 0 && gid < 0
                && environment.stream().noneMatch(e -> Arrays.equals(e, 0, Math.min(e.length, CAGE.length),
                        CAGE, 0, CAGE.length));
    }

    /** The stdout connection's header. */
    static byte[] header(char kind, long id) {
        byte[] h = new byte[HEADER];
        h[0] = 'K';
        h[1] = 'F';
        h[2] = 'S';
        h[3] = '1';
        h[4] = (byte) kind;
        for (int i = 0; i < 8; i++) {
            h[HEADER - 1 - i] = (byte) (id >>> (8 * i));
        }
        return h;
    }

    /**
     * The stdin+stderr connection's first bytes: header, length, NUL-terminated fields (kiln_forkserver.py);
     * {@code spawn}: what {@link #spawns()} said.
     */
    byte[] encode(long id, boolean spawn) {
        byte[] ids = (uid + "\0" + gid + "\0" + joinGroups() + "\0" + (spawn ? "spawn" : run.word()) + "\0")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] argc = (arguments.size() + "\0").getBytes(StandardCharsets.US_ASCII);
        int size = ids.length + workDir.length + 1 + argc.length + total(arguments) + total(environment);
        byte[] frame = new byte[HEADER + 4 + size];
        System.arraycopy(header('I', id), 0, frame, 0, HEADER);
        for (int i = 0; i < 4; i++) {
            frame[HEADER + i] = (byte) (size >>> (8 * (3 - i)));
        }
        int at = put(frame, HEADER + 4, ids);
        at = put(frame, at, workDir) + 1;
        at = put(frame, at, argc);
        for (byte[] a : arguments) {
            at = put(frame, at, a) + 1;
        }
        for (byte[] e : environment) {
            at = put(frame, at, e) + 1;
        }
        return frame;
    }

    private String joinGroups() {
        StringBuilder sb = new StringBuilder();
        for (int g : groups) {
            sb.append(sb.length() == 0 ? "" : ",").append(g);
        }
        return sb.toString();
    }

    private static int total(List<byte[]> fields) {
        int n = 0;
        for (byte[] f : fields) {
            n += f.length + 1;
        }
        return n;
    }

    private static int put(byte[] to, int at, byte[] bytes) {
        System.arraycopy(bytes, 0, to, at, bytes.length);
        return at + bytes.length;
    }

    private static void requireNoNul(byte[] bytes, String what) {
        if (indexOf(bytes, (byte) 0) >= 0) {
            throw new IllegalArgumentException(what + " contains a NUL byte");
        }
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
