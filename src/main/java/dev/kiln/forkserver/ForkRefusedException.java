package dev.kiln.forkserver;

import java.io.IOException;

/**
 * The fork-server is running but will not start this request, e.g. because a start-up variable differs from its
 * own; the request can run classic, or on a fork-server started for it.
 */
public final class ForkRefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    public ForkRefusedException(String reason) {
        super(reason);
    }
}
