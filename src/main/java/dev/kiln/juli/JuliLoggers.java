package dev.kiln.juli;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.spi.MDCAdapter;

/** One {@link JuliLogger} per name, each reading the request id and pid from the provider's MDC. */
final class JuliLoggers implements ILoggerFactory {
    private final Map<String, Logger> loggers = new ConcurrentHashMap<>();
    private final MDCAdapter mdc;

    JuliLoggers(MDCAdapter mdc) {
        this.mdc = mdc;
    }

    @Override
    public Logger getLogger(String name) {
        return loggers.computeIfAbsent(name, n -> new JuliLogger(n, mdc));
    }
}
