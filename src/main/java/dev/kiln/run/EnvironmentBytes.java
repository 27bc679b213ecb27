package dev.kiln.run;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Environment values as bytes, the way Python's {@code os.environ} sees them (PEP 383): UTF-8, where a byte
 * that is not part of valid UTF-8 travels as the lone surrogate U+DC80..U+DCFF. So a header value reaches the
 * script byte for byte, valid UTF-8 or not.
 */
public final class EnvironmentBytes {
    private EnvironmentBytes() {
    }

    /** The string whose {@link #encode} is {@code bytes}. */
    public static String decode(byte[] bytes) {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        while (true) {
            CoderResult r = utf8.decode(in, out, true);
            if (!r.isError()) {
                break;
            }
            for (int i = 0; i < r.length(); i++) {
                out.put((char) (0xDC00 | (in.get() & 0xff)));
            }
        }
        utf8.flush(out);
        return out.flip().toString();
    }

    /** UTF-8, with each escaped byte U+DC80..U+DCFF back as itself. */
    public static byte[] encode(String s) {
        if (!hasEscapes(s)) {
            return s.getBytes(StandardCharsets.UTF_8);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(s.length() + 8);
        int plain = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0xDC80 && c <= 0xDCFF) {
                b.writeBytes(s.substring(plain, i).getBytes(StandardCharsets.UTF_8));
                b.write(c & 0xff);
                plain = i + 1;
            }
        }
        b.writeBytes(s.substring(plain).getBytes(StandardCharsets.UTF_8));
        return b.toByteArray();
    }

    /** Whether {@code s} holds a byte the JVM's own encoder would turn into '?'. */
    public static boolean hasEscapes(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0xDC80 && c <= 0xDCFF) {
                return true;
            }
        }
        return false;
    }
}
