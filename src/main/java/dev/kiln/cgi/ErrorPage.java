package dev.kiln.cgi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.http.HttpServletResponse;

/** The short pages Kiln answers errors with: the status and the request's path, never a file path or trace. */
public final class ErrorPage {
    private ErrorPage() {
    }

    public static String reason(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 411 -> "Length Required";
            case 413 -> "Content Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            case 414 -> "URI Too Long";
            case 431 -> "Request Header Fields Too Large";
            case 505 -> "HTTP Version Not Supported";
            default -> "Error";
        };
    }

    /** Sends the page unless the response is already committed (then there is nothing left to say). */
    public static void send(HttpServletResponse resp, int status, String requestPath) throws IOException {
        if (resp.isCommitted()) {
            return;
        }
        // only the body so far goes: headers the caller set for this answer (Allow, Retry-After) stay
        resp.resetBuffer();
        resp.setStatus(status);
        resp.setContentType("text/html;charset=utf-8");
        resp.setHeader("Cache-Control", "no-store");
        byte[] bytes = html(status, requestPath);
        resp.setContentLength(bytes.length);
        resp.getOutputStream().write(bytes);
    }

    /** The page itself, UTF-8: for answers Kiln's servlets send and those the server sends for them. */
    public static byte[] html(int status, String requestPath) {
        String title = status + " " + reason(status);
        String body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title + "</title></head><body>\n"
                + "<h1>" + title + "</h1>\n<p>" + escape(requestPath) + "</p>\n</body></html>\n";
        return body.getBytes(StandardCharsets.UTF_8);
    }

    public static String escape(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
