package dev.kiln.run;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

import org.slf4j.MDC;

/** Runs a piece of logging in a script's context (its request id and pid), whatever thread does it. */
final class LogContext {
    private LogContext() {
    }

    /** This thread's context (the request's), with the script's pid added. */
    static Map<String, String> ofScript(long pid) {
        Map<String, String> context = new HashMap<>(Objects.requireNonNullElse(MDC.getCopyOfContextMap(), Map.of()));
        context.put("pid", Long.toString(pid));
        return Map.copyOf(context);
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
