package dev.kiln.run;

import java.util.Map;

import org.slf4j.MDC;

/** Runs a piece of logging in a script's context (its request id and pid), whatever thread does it. */
final class LogContext {
    private LogContext() {
    }

    static void with(Map<String, String> context, Runnable logging) {
        Map<String, String> caller = MDC.getCopyOfContextMap();
        MDC.setContextMap(context);
        try {
            logging.run();
        } finally {
            MDC.setContextMap(caller == null ? Map.of() : caller);
        }
    }
}
