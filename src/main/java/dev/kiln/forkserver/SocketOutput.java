package dev.kiln.forkserver;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** A child's stdin: closing it shuts the socket's output down, which the script reads as end-of-file. */
final class SocketOutput extends OutputStream {
    private final SocketChannel channel;
    private final Runnable onClose;

    SocketOutput(SocketChannel channel, Runnable onClose) {
        this.channel = channel;
        this.onClose = onClose;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
    }

    @Override
    public void close() {
        onClose.run();
    }
}
