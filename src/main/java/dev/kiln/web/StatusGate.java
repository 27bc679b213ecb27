package dev.kiln.web;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

import jakarta.servlet.http.HttpServletRequest;

import dev.kiln.config.KilnConfig;
import dev.kiln.config.StatusAccess;

/**
 * Who may read the status pages and metrics (option {@code status}, plus {@code status-token} for remote
 * clients). "Local" is a loopback peer that came through no proxy: behind a reverse proxy on the same host every
 * request comes from 127.0.0.1, so a forwarding header makes it remote.
 */
final class StatusGate {
    private static final String[] FORWARDING = {"Forwarded", "X-Forwarded-For", "X-Real-IP"};

    /** What a client gets: the page, a request for credentials (401), or nothing (403, or 404 when off). */
    enum Verdict { ALLOWED, CREDENTIALS, FORBIDDEN, OFF }

    private StatusGate() {
    }

    static Verdict check(KilnConfig.Operations ops, HttpServletRequest req) {
        if (ops.status() == StatusAccess.OFF) {
            return Verdict.OFF;
        }
        if (ops.status() == StatusAccess.ALL || isLocal(req) || tokenMatches(ops.statusToken(), req)) {
            return Verdict.ALLOWED;
        }
        return ops.statusToken().isEmpty() ? Verdict.FORBIDDEN : Verdict.CREDENTIALS;
    }

    static boolean allowed(KilnConfig.Operations ops, HttpServletRequest req) {
        return check(ops, req) == Verdict.ALLOWED;
    }

    static boolean isLocal(HttpServletRequest req) {
        for (String h : FORWARDING) {
            if (req.getHeader(h) != null) {
                return false;
            }
        }
        String addr = req.getRemoteAddr();
        try {
            return addr != null && InetAddress.getByName(addr).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false; // a literal address never needs a lookup; anything else is not local
        }
    }

    /** Bearer TOKEN, or HTTP Basic with TOKEN as the password; compared in constant time. */
    private static boolean tokenMatches(String token, HttpServletRequest req) {
        String auth = req.getHeader("Authorization");
        if (token.isEmpty() || auth == null) {
            return false;
        }
        String given = null;
        if (auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            given = auth.substring(7).trim();
        } else if (auth.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String pair = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
                given = pair.substring(pair.indexOf(':') + 1);
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                token.getBytes(StandardCharsets.UTF_8));
    }
}
