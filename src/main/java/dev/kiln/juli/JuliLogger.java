package dev.kiln.juli;

import java.util.Optional;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.MDCAdapter;

/**
 * An SLF4J logger writing to the java.util.logging logger of the same name. The message reads as logback.xml's
 * pattern has it after the level, {@code [logger] req=ID pid=PID text}; the record's source is the Kiln class
 * and method that logged, which is what JULI's one-line format prints.
 */
final class JuliLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;
    /** The MDC keys Kiln sets (the request id, a script's pid) and how a line names them, as in logback.xml. */
    private static final String[][] CONTEXT = {{"request", "req"}, {"pid", "pid"}};

    private final transient Logger jul;
    private final transient MDCAdapter mdc;

    JuliLogger(String name, MDCAdapter mdc) {
        this.name = name;
        this.jul = Logger.getLogger(name);
        this.mdc = mdc;
    }

    @Override
    public boolean isTraceEnabled() {
        return jul.isLoggable(JulLevels.TRACE);
    }

    @Override
    public boolean isDebugEnabled() {
        return jul.isLoggable(JulLevels.DEBUG);
    }

    @Override
    public boolean isInfoEnabled() {
        return jul.isLoggable(JulLevels.INFO);
    }

    @Override
    public boolean isWarnEnabled() {
        return jul.isLoggable(JulLevels.WARN);
    }

    @Override
    public boolean isErrorEnabled() {
        return jul.isLoggable(JulLevels.ERROR);
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern,
            Object[] arguments, Throwable thrown) {
        StringBuilder text = new StringBuilder("[").append(name).append(']');
        for (String[] key : CONTEXT) {
            String value = mdc.get(key[0]);
            if (value != null && !value.isEmpty()) {
                text.append(' ').append(key[1]).append('=').append(value);
            }
        }
        text.append(' ').append(MessageFormatter.basicArrayFormat(pattern, arguments));
        LogRecord r = new LogRecord(JulLevels.of(level.toInt()), text.toString());
        r.setLoggerName(name);
        r.setThrown(thrown);
        caller().ifPresent(f -> {
            r.setSourceClassName(f.getClassName());
            r.setSourceMethodName(f.getMethodName());
        });
        jul.log(r);
    }

    /** The first frame outside this class and SLF4J's (shaded or not). */
    private static Optional<StackWalker.StackFrame> caller() {
        return StackWalker.getInstance().walk(frames -> frames
                .dropWhile(f -> f.getClassName().equals(JuliLogger.class.getName())
                        || f.getClassName().contains(".slf4j."))
                .findFirst());
    }
}
