package dev.kiln.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * A TCP port of 127.0.0.1 free right now, for a server that must be told its port up front (Tomcat's server.xml,
 * a command line under test). Where a server can report the port it bound, use port 0 instead: no race.
 */
public final class FreePort {
    private FreePort() {
    }

    public static int pick() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }
}
