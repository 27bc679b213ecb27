package dev.kiln.server;

/** The jar's exit codes: scripts and service managers tell a bad option from a failed run by them. */
enum ExitCode {
    OK(0),
    /** A run that failed: the server could not start, or a script or module did not compile. */
    FAILURE(1),
    /** A bad command line, option, value or config file; the one line on stderr says which. */
    USAGE(2);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    int code() {
        return code;
    }
}
