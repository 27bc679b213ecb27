package dev.kiln.cgi;

import java.io.IOException;

/**
 * Thrown out of {@link CgiHost#serve} when a response that is already under way cannot be finished (the script
 * was killed or died by a signal, fell short of its Content-Length, or the client's upload broke off): the
 * container must close the connection without ending the response, so the client cannot take it for complete.
 * Kiln has logged the cause already.
 */
public final class ResponseAborted extends IOException {
    ResponseAborted(String why) {
        super(why, null);
    }
}
