package dev.kiln.cgi;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The header block a script writes before its body (RFC 3875 section 6): CGI fields ({@code Status},
 * {@code Location}, {@code Content-Type}) and any HTTP header fields, in order, repeats kept.
 *
 * @param status   the Status field's code, or 0 when the script sent none
 * @param location the Location field, or null
 * @param headers  every field but Status, in the order sent (Location and Content-Type included)
 * @param body     bytes of the body that were read together with the header block
 */
public record CgiResponseHead(int status, String location, List<Header> headers, byte[] body) {

    /** Fields that take a single value: sent twice, the response is ambiguous. */
    private static final Set<String> SINGLE = Set.of("status", "location", "content-type", "content-length",
            "content-location", "content-range", "etag", "last-modified", "expires", "date", "age", "retry-after");

    /** The Content-Length the script declared, or -1. */
    public long contentLength() {
        for (Header h : headers) {
            if (h.name().equalsIgnoreCase("Content-Length")) {
                return Long.parseLong(h.value());
            }
        }
        return -1;
    }

    /** One header field as the script sent it. */
    public record Header(String name, String value) {
    }

    /** The script's output is not a valid header block; {@link #line} quotes the offending line. */
    public static final class MalformedException extends Exception {
        private final String line;

        public MalformedException(String message, String line) {
            super(message, null, false, false);
            this.line = line;
        }

        public String line() {
            return line;
        }
    }

    /** The script closed stdout before finishing its header block. */
    public static final class IncompleteException extends Exception {
        private final int bytesRead;

        public IncompleteException(int bytesRead) {
            super("output ended before the end of the header block", null, false, false);
            this.bytesRead = bytesRead;
        }

        public int bytesRead() {
            return bytesRead;
        }
    }

    /**
     * Reads the header block, at most {@code maxBytes} of it, leaving the stream positioned after whatever body
     * bytes came along (returned in {@link #body}).
     */
    public static CgiResponseHead read(InputStream in, int maxBytes)
            throws IOException, MalformedException, IncompleteException {
        byte[] buf = new byte[Math.min(maxBytes, 8192) + 1];
        int filled = 0;
        int scanFrom = 0;
        while (true) {
            if (filled == buf.length) {
                if (buf.length > maxBytes) {
                    throw new MalformedException("header block larger than " + maxBytes + " bytes",
                            firstLine(buf, filled));
                }
                byte[] bigger = new byte[Math.min(maxBytes + 1, buf.length * 2)];
                System.arraycopy(buf, 0, bigger, 0, filled);
                buf = bigger;
            }
            int n = in.read(buf, filled, buf.length - filled);
            if (n < 0) {
                throw new IncompleteException(filled);
            }
            filled += n;
            int end = findEnd(buf, scanFrom, filled);
            if (end >= 0) {
                int headerLen = Math.max(0, end - 1); // without the newline that ends the last field
                int bodyStart = buf[end] == '\r' ? end + 2 : end + 1;
                byte[] body = Arrays.copyOfRange(buf, bodyStart, filled);
                return parse(new String(buf, 0, headerLen, StandardCharsets.ISO_8859_1), body);
            }
            scanFrom = Math.max(0, filled - 3);
            if (filled > maxBytes) {
                throw new MalformedException("header block larger than " + maxBytes + " bytes",
                        firstLine(buf, filled));
            }
        }
    }

    /** Index of the empty line that ends the block (its first byte), or -1. */
    private static int findEnd(byte[] buf, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buf[i] != '\n') {
                continue;
            }
            if (i + 1 < to && buf[i + 1] == '\n') {
                return i + 1;
            }
            if (i + 2 < to && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
                return i + 1;
            }
        }
        if (from == 0 && to > 0 && buf[0] == '\n') {
            return 0;
        }
        if (from == 0 && to > 1 && buf[0] == '\r' && buf[1] == '\n') {
            return 0;
        }
        return -1;
    }

    private static String firstLine(byte[] buf, int len) {
        int end = 0;
        while (end < len && end < 200 && buf[end] != '\n') {
            end++;
        }
        return new String(buf, 0, end, StandardCharsets.ISO_8859_1).strip();
    }

    static CgiResponseHead parse(String block, byte[] body) throws MalformedException {
        if (block.isEmpty()) {
            throw new MalformedException("output starts with an empty line: no header fields", "");
        }
        int status = 0;
        String location = null;
        List<Header> headers = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Header field : unfold(block)) {
            String name = field.name();
            String value = field.value();
            String line = name + ": " + value;
            if (!isFieldValue(value)) {
                throw new MalformedException("control character in header value (RFC 9110 5.5)", line);
            }
            String lower = name.toLowerCase(Locale.ROOT);
            if (SINGLE.contains(lower) && !seen.add(lower)) {
                throw new MalformedException(name + " sent twice: it takes one value (RFC 9110 5.3)", line);
            }
            if (lower.equals("content-length") && !value.matches("[0-9]{1,18}")) {
                throw new MalformedException("Content-Length must be a decimal number of bytes", line);
            }
            if (lower.equals("location") && !value.matches("[!-~]+")) {
                throw new MalformedException("Location must be a URI reference: visible ASCII, no spaces", line);
            }
            switch (lower) {
                case "status" -> status = parseStatus(value, line);
                case "location" -> {
                    location = value;
                    headers.add(new Header("Location", value));
                }
                default -> headers.add(field);
            }
        }
        return new CgiResponseHead(status, location, List.copyOf(headers), body);
    }

    /** The block's fields in order, each folded continuation line (obs-fold) joined to its field by a space. */
    private static List<Header> unfold(String block) throws MalformedException {
        List<Header> fields = new ArrayList<>();
        for (String raw : block.split("\n", -1)) {
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t')) {
                if (fields.isEmpty()) {
                    throw new MalformedException("continuation line before any header field", line);
                }
                Header last = fields.remove(fields.size() - 1);
                fields.add(new Header(last.name(), (last.value() + " " + line.strip()).strip()));
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0 || !isToken(line, colon)) {
                throw new MalformedException("not a header field (expected Name: value)", line);
            }
            fields.add(new Header(line.substring(0, colon), line.substring(colon + 1).strip()));
        }
        return fields;
    }

    private static int parseStatus(String value, String line) throws MalformedException {
        if (value.length() >= 3) {
            try {
                int code = Integer.parseInt(value.substring(0, 3));
                if (code >= 100 && code <= 599 && (value.length() == 3 || value.charAt(3) == ' ')) {
                    if (code < 200) {
                        throw new MalformedException("Status " + code + " is interim (1xx): a CGI script sends "
                                + "one final response", line);
                    }
                    return code;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new MalformedException("Status must be a three-digit code from 100 to 599", line);
    }

    /** field-value of RFC 9110 5.5: visible characters, obs-text, spaces and tabs; no other controls. */
    private static boolean isFieldValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    private static boolean isToken(String line, int end) {
        for (int i = 0; i < end; i++) {
            char c = line.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
