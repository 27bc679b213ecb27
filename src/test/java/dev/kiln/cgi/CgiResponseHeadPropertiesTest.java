package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The CGI header-block parser on generated blocks: whatever a script writes, the outcome is either a head that
 * can be sent as a valid RFC 9110 final response, or a refusal (a 502). A block of valid fields is parsed back
 * exactly, in order, with the body that followed it untouched.
 */
class CgiResponseHeadPropertiesTest {
    private static final int MAX = 4096;
    private static final Set<String> SINGLE = Set.of("status", "location", "content-type", "content-length",
            "content-location", "content-range", "etag", "last-modified", "expires", "date", "age", "retry-after");

    @Property(tries = 3000)
    void anyBlockIsAValidResponseOrRefused(@ForAll("blocks") byte[] output) throws Exception {
        CgiResponseHead head;
        try {
            head = CgiResponseHead.read(new ByteArrayInputStream(output), MAX);
        } catch (CgiResponseHead.MalformedException | CgiResponseHead.IncompleteException refused) {
            return; // a 502 (or a 500 for output that ended too soon): nothing of it is sent
        }
        assertThat(head.status()).satisfiesAnyOf(s -> assertThat(s).isZero(), s -> assertThat(s).isBetween(200, 599));
        Set<String> seen = new HashSet<>();
        for (CgiResponseHead.Header h : head.headers()) {
            assertThat(h.name()).matches("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");
            assertThat(h.value()).as("field-value of %s", h.name()).matches("[\\t\\x20-\\x7e\\x80-\\xff]*")
                    .doesNotStartWith(" ").doesNotEndWith(" ");
            String lower = h.name().toLowerCase(Locale.ROOT);
            if (SINGLE.contains(lower)) {
                assertThat(seen.add(lower)).as("%s once", h.name()).isTrue();
            }
            if (lower.equals("content-length")) {
                assertThat(h.value()).matches("[0-9]{1,18}");
                assertThat(head.contentLength()).isEqualTo(Long.parseLong(h.value()));
            }
            if (lower.equals("location")) {
                assertThat(h.value()).matches("[!-~]+").isEqualTo(head.location());
            }
        }
        assertThat(output).endsWith(head.body());
    }

    @Property(tries = 1000)
    void validFieldsAreParsedBackExactly(@ForAll("validFields") List<String> fields, @ForAll boolean crlf,
                                         @ForAll("bodies") byte[] body) throws Exception {
        String eol = crlf ? "\r\n" : "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((String.join(eol, fields) + eol + eol).getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(body);
        CgiResponseHead head = CgiResponseHead.read(new ByteArrayInputStream(out.toByteArray()), MAX);
        List<String> parsed = head.headers().stream().map(h -> h.name() + ": " + h.value()).toList();
        assertThat(parsed).isEqualTo(fields);
        assertThat(head.body()).isEqualTo(body);
    }

    @Provide
    Arbitrary<List<String>> validFields() {
        Arbitrary<String> name = Arbitraries.strings().withChars("abcXYZ019-_!#$%&'*+.^`|~").ofMinLength(1)
                .ofMaxLength(12).filter(n -> !SINGLE.contains(n.toLowerCase(Locale.ROOT)));
        Arbitrary<String> value = Arbitraries.strings().withCharRange(' ', '~').withChars('\t', 'é', '\u00ff')
                .ofMaxLength(30).map(String::strip);
        return Combinators.combine(name, value).as((n, v) -> n + ": " + v).list().ofMinSize(1).ofMaxSize(12);
    }

    @Provide
    Arbitrary<byte[]> bodies() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
    }

    /** Header blocks as scripts get them wrong: plausible lines, broken ones and raw bytes, mixed. */
    @Provide
    Arbitrary<byte[]> blocks() {
        Arbitrary<String> plausible = Arbitraries.of("Content-Type: text/plain", "Content-Type: text/html",
                "Content-Length: 5", "Content-Length: 0", "Content-Length: -1", "Content-Length: 5, 5",
                "Content-Length: 99999999999999999999", "Status: 200 OK", "Status: 404", "Status: 100 Continue",
                "Status: 103 Early Hints", "Status: 600", "Status: 20", "Status: abc", "Location: /cgi-bin/x",
                "Location: https://example.org/", "Location: /a b", "Set-Cookie: a=1", "Set-Cookie: b=2",
                "X-Empty:", "X-Trailing: value   ", " folded continuation", "\tfolded", "No colon here",
                ": empty name", "Bad Name: x", "X-Ctl: a\u0001b", "X-Del: a\u007fb", "X-Nul: a\u0000b",
                "X-Latin: caf\u00e9", "Date: Tue, 01 Dec 2026 00:00:00 GMT", "ETag: \"x\"", "Transfer-Encoding: chunked",
                "Connection: close", "");
        Arbitrary<String> random = Arbitraries.strings().withCharRange('\u0000', '\u00ff').ofMaxLength(40);
        Arbitrary<String> line = Arbitraries.frequencyOf(
                Tuple.of(6, plausible), Tuple.of(1, random));
        Arbitrary<String> eol = Arbitraries.of("\n", "\r\n", "\r");
        Arbitrary<String> block = Combinators.combine(line, eol).as(String::concat).list().ofMaxSize(10)
                .map(lines -> String.join("", lines));
        return Combinators.combine(block, Arbitraries.of("\n", "\r\n", ""), bodies())
                .as((b, end, body) -> {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    out.writeBytes((b + end).getBytes(StandardCharsets.ISO_8859_1));
                    out.writeBytes(body);
                    return out.toByteArray();
                });
    }
}
