package dev.kiln.forkserver;

import java.nio.file.Path;

/**
 * Stands in for a Kiln that dies: starts a fork-server in {@code args[0]}, forks {@code args[1]} (which prints its
 * own child's pid), prints the fork-server's pid, the script's pid, that line and the socket folder, then waits to
 * be killed.
 */
public final class KilnStandIn {
    private KilnStandIn() {
    }

    public static void main(String[] args) throws Exception {
        ForkFixture fx = new ForkFixture(Path.of(args[0]));
        ForkServer server = fx.start();
        ForkedChild child = server.fork(fx.request(Path.of(args[1]), fx.baseEnv()));
        child.stdin().close();
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = child.stdout().read()) >= 0 && b != '\n') {
            line.append((char) b);
        }
        System.out.println(server.status().pid() + " " + child.pid() + " " + line + " "
                + ForkServerTest.socketFolder(server));
        System.out.flush();
        Thread.sleep(60_000);
    }
}
