package dev.kiln.server;

import java.nio.ByteBuffer;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import dev.kiln.cgi.ErrorPage;

/**
 * Answers the errors Jetty itself raises (a path no servlet maps, a malformed request) with Kiln's one error
 * page, in UTF-8, instead of Jetty's own table: every path Kiln answers looks the same and shows no internals.
 */
final class KilnErrorHandler extends ErrorHandler {
    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) {
        byte[] page = ErrorPage.html(code, request.getHttpURI().getPath());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html;charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, page.length);
        response.write(true, ByteBuffer.wrap(page), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "text/html;charset=utf-8");
        return ByteBuffer.wrap(ErrorPage.html(status, ""));
    }
}
