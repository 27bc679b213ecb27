package dev.kiln.forkserver;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * A child's stdin: closing it shuts the socket's output down, which the script reads as end-of-file. The socket
 * may be non-blocking (its other direction, stderr, is read through a selector): a full socket is then waited for
 * in a selector of its own, opened only for a script that does not keep up with its body.
 */
final class SocketOutput extends OutputStream {
    private static final long RECHECK_MILLIS = 1000;

    private final SocketChannel channel;
    private final Runnable onClose;
    private volatile Selector room;
    private volatile boolean closed;

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
            if (channel.write(buf) == 0) {
                awaitRoom();
            }
        }
    }

    private void awaitRoom() throws IOException {
        try {
            Selector s = room;
            if (s == null) {
                s = Selector.open();
                room = s;
                if (closed) {   // close() may not have seen it
                    s.close();
                    throw new ClosedChannelException();
                }
                channel.register(s, SelectionKey.OP_WRITE);
            }
            s.select(RECHECK_MILLIS);
            s.selectedKeys().clear();
        } catch (ClosedSelectorException e) {
            throw new ClosedChannelException(); // closed by another thread meanwhile
        }
    }

    @Override
    public void close() {
        closed = true;
        onClose.run();
        Selector s = room;
        if (s != null) {
            try {
                s.close(); // wakes a writer waiting in it
            } catch (IOException e) {
                // nothing held any more
            }
        }
    }
}
