package dev.kiln.run;

import java.io.IOException;

/**
 * A launcher declined to start a script for a reason it has already logged in full (a Java script that does not
 * compile): the message is the one line the request's log entry needs, cause and fix included.
 */
public final class ScriptNotStartedException extends IOException {
    private static final long serialVersionUID = 1L;

    public ScriptNotStartedException(String message) {
        super(message);
    }
}
