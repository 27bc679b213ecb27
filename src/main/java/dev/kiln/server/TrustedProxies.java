package dev.kiln.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.ForwardedRequestCustomizer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;

import dev.kiln.config.AddressRange;
import dev.kiln.web.ForwardedPrefix;

/**
 * Jetty's {@link ForwardedRequestCustomizer} (Forwarded, X-Forwarded-For/-Proto/-Host/-Port set the client address,
 * scheme, host and port; X-Forwarded-Prefix the {@link ForwardedPrefix} of Kiln's own links) for requests whose
 * peer is a trusted proxy; anyone else's such headers change nothing.
 * Proxies append the address they saw to the client's own list, so the client is the rightmost address that is
 * not itself a trusted proxy (as Apache's mod_remoteip reads it), not the leftmost one Jetty would take.
 */
final class TrustedProxies implements HttpConfiguration.Customizer {
    private final List<AddressRange> trusted;
    private final ForwardedRequestCustomizer forwarded = new ForwardedRequestCustomizer();

    TrustedProxies(List<AddressRange> trusted) {
        this.trusted = List.copyOf(trusted);
    }

    @Override
    public Request customize(Request request, HttpFields.Mutable responseHeaders) {
        SocketAddress peer = request.getConnectionMetaData().getRemoteSocketAddress();
        if (!(peer instanceof InetSocketAddress inet) || !isTrusted(inet.getAddress())) {
            return request;
        }
        HttpFields headers = request.getHeaders();
        HttpFields.Mutable client = HttpFields.build(headers);
        narrow(client, HttpHeader.X_FORWARDED_FOR, "");
        narrow(client, HttpHeader.FORWARDED, "for=");
        Request customized = forwarded.customize(withHeaders(request, client.asImmutable()), responseHeaders);
        String prefix = ForwardedPrefix.parse(headers.get(ForwardedPrefix.HEADER));
        if (!prefix.isEmpty()) {
            customized.setAttribute(ForwardedPrefix.ATTRIBUTE, prefix);
        }
        // Jetty read the narrowed lists; scripts still see them as the proxy sent them (and Jetty's Host).
        HttpFields.Mutable seen = HttpFields.build(customized.getHeaders());
        for (HttpHeader h : List.of(HttpHeader.X_FORWARDED_FOR, HttpHeader.FORWARDED)) {
            seen.remove(h);
            headers.getFields(h).forEach(seen::add);
        }
        return withHeaders(customized, seen.asImmutable());
    }

    private boolean isTrusted(InetAddress address) {
        return address != null && trusted.stream().anyMatch(r -> r.contains(address));
    }

    /** Keeps, of a header's comma-separated entries, only the one naming the client. */
    private void narrow(HttpFields.Mutable headers, HttpHeader header, String forParameter) {
        List<String> entries = headers.getCSV(header, false);
        if (entries.size() < 2) {
            return;
        }
        String client = entries.get(0);
        for (int i = entries.size() - 1; i >= 0; i--) {
            InetAddress hop = literal(entries.get(i), forParameter);
            if (hop == null || !isTrusted(hop)) {
                client = entries.get(i);
                break;
            }
        }
        headers.put(header, client);
    }

    /** The address an entry names (X-Forwarded-For: {@code 192.0.2.1}; Forwarded: {@code for="[::1]:80";proto=..}). */
    private static InetAddress literal(String entry, String forParameter) {
        String value = entry.trim();
        if (!forParameter.isEmpty()) {
            value = List.of(value.split(";")).stream().map(String::trim)
                    .filter(p -> p.regionMatches(true, 0, forParameter, 0, forParameter.length()))
                    .map(p -> p.substring(forParameter.length())).findFirst().orElse("");
        }
        value = value.replace("\"", "");
        if (value.startsWith("[")) {
            value = value.substring(1, Math.max(1, value.indexOf(']')));
        } else if (value.indexOf(':') == value.lastIndexOf(':') && value.indexOf(':') > 0) {
            value = value.substring(0, value.indexOf(':')); // IPv4 with a port
        }
        AddressRange one = AddressRange.parse(value);
        return one == null ? null : one.network();
    }

    private static Request withHeaders(Request request, HttpFields headers) {
        return new Request.Wrapper(request) {
            @Override
            public HttpFields getHeaders() {
                return headers;
            }
        };
    }
}
