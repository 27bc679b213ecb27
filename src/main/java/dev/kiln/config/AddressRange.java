package dev.kiln.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One entry of {@code trusted-proxies}: an address ({@code 192.0.2.7}, {@code ::1}) or a CIDR block
 * ({@code 10.0.0.0/8}, {@code fd00::/8}). Literals only: a host name would need DNS at start and on every change.
 */
public record AddressRange(InetAddress network, int prefix) {
    private static final Pattern LITERAL = Pattern.compile(
            "(\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)(?:/(\\d{1,3}))?");

    /** Parses one entry; null when it is not an address or CIDR block. */
    public static AddressRange parse(String text) {
        Matcher m = LITERAL.matcher(text.trim());
        if (!m.matches()) {
            return null;
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(m.group(1)); // a literal: no lookup
        } catch (UnknownHostException e) {
            return null;
        }
        int bits = address.getAddress().length * 8;
        int prefix = m.group(2) == null ? bits : Integer.parseInt(m.group(2));
        return prefix > bits ? null : new AddressRange(address, prefix);
    }

    /** Whether {@code address} lies in this range (an IPv4 address never lies in an IPv6 range). */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        byte[] n = network.getAddress();
        if (a.length != n.length) {
            return false;
        }
        for (int bit = 0; bit < prefix; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((a[bit / 8] & mask) != (n[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefix;
    }
}
