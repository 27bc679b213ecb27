package dev.kiln.server;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

import dev.kiln.cgi.ErrorPage;

/**
 * The pages Jetty answers its own errors with outside the servlet context, requests its parser refused
 * included, in Kiln's form: the status and its reason, never Jetty's message, an exception name or a stack.
 */
final class ServerErrorPages extends ErrorHandler {
    ServerErrorPages() {
        setShowStacks(false);
        setShowCauses(false);
        setShowMessageInTitle(false);
    }

    static String html(int status) {
        String title = status + " " + ErrorPage.reason(status);
        return "<!DOCTYPE html>\n<html><head><title>" + title + "</title></head><body>\n<h1>" + title
                + "</h1>\n</body></html>\n";
    }

    static String plain(int status) {
        return status + " " + ErrorPage.reason(status) + "\n";
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put("Content-Type", "text/html;charset=utf-8");
        return ByteBuffer.wrap(html(status).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    protected void writeErrorHtml(Request request, Writer writer, Charset charset, int code, String message,
                                  Throwable cause) throws IOException {
        writer.write(html(code));
    }

    @Override
    protected void writeErrorPlain(Request request, PrintWriter writer, int code, String message, Throwable cause) {
        writer.write(plain(code));
    }

    @Override
    protected void writeErrorJson(Request request, PrintWriter writer, int code, String message, Throwable cause) {
        writer.write(plain(code));
    }
}
