package dev.kiln.forkserver;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** The two things every side of the fork-server protocol does with its sockets. */
final class Channels {
    private Channels() {
    }

    static void writeFully(SocketChannel channel, byte[] bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
    }

    /** Closes it; a failure to close a socket leaves nothing to recover. */
    static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // the peer or the process is gone already
        }
    }
}
