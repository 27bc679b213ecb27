package dev.kiln.forkserver;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Reads one of a child's output sockets. {@link #available()} is 0: Java cannot ask a socket how much is waiting,
 * and a reader that flushes whenever nothing is ready stays correct for streaming.
 */
final class SocketInput extends InputStream {
    private final SocketChannel channel;
    private final boolean resetIsEnd;
    private final Runnable onClose;

    /**
     * @param resetIsEnd a reset ends the stream: on the stdin+stderr socket it means the script exited without
     *                   reading all of its body, after everything it wrote to stderr has been read
     */
    SocketInput(SocketChannel channel, boolean resetIsEnd, Runnable onClose) {
        this.channel = channel;
        this.resetIsEnd = resetIsEnd;
        this.onClose = onClose;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        try {
            return channel.read(ByteBuffer.wrap(b, off, len));
        } catch (SocketException reset) {
            if (resetIsEnd) {
                return -1;
            }
            throw reset;
        }
    }

    @Override
    public void close() {
        onClose.run();
    }
}
