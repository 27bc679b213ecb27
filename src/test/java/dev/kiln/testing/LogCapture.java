package dev.kiln.testing;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

/**
 * Captures what Kiln logs (logger names starting with {@code kiln}, the access log left out unless asked for
 * with {@code capture("kiln.access")}) while a test runs:
 * {@code try (LogCapture logs = LogCapture.capture()) { ... logs.lines() ... }}.
 * Each line is {@code LEVEL [logger] message}; {@link #withContext()} has the same lines with the logging
 * context (request id, script pid) before the message: {@code LEVEL [logger] request=ID pid=PID message}.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements LogLines, AutoCloseable {
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final List<String> contextual = new CopyOnWriteArrayList<>();
    private final Logger target;

    private LogCapture(Logger target) {
        this.target = target;
    }

    public static LogCapture capture() {
        return capture("kiln");
    }

    public static LogCapture capture(String loggerName) {
        Logger logger = (Logger) LoggerFactory.getLogger(loggerName);
        LogCapture c = new LogCapture(logger);
        c.setContext(logger.getLoggerContext());
        c.start();
        logger.addAppender(c);
        return c;
    }

    @Override
    protected void append(ILoggingEvent e) {
        if (e.getLoggerName().equals("kiln.access") && !target.getName().equals("kiln.access")) {
            return; // one line per request: tests look at the event lines, not at the traffic
        }
        lines.add(e.getLevel() + " [" + e.getLoggerName() + "] " + e.getFormattedMessage());
        Map<String, String> mdc = e.getMDCPropertyMap();
        StringBuilder context = new StringBuilder();
        for (String key : List.of("request", "pid")) {
            if (mdc.containsKey(key)) {
                context.append(key).append('=').append(mdc.get(key)).append(' ');
            }
        }
        contextual.add(e.getLevel() + " [" + e.getLoggerName() + "] " + context + e.getFormattedMessage());
    }

    /** The lines with their logging context. */
    public LogLines withContext() {
        return () -> List.copyOf(contextual);
    }

    @Override
    public List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void close() {
        target.detachAppender(this);
        stop();
    }
}
