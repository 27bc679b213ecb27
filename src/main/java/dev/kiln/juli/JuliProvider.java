package dev.kiln.juli;

import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/** SLF4J's entry point into {@link JuliLogger}s, found by SLF4J through kiln-servlet.jar's service file. */
public final class JuliProvider implements SLF4JServiceProvider {
    private MDCAdapter mdc;
    private IMarkerFactory markers;
    private ILoggerFactory loggers;

    /** Called by SLF4J's service loader. */
    public JuliProvider() {
    }

    @Override
    public void initialize() {
        mdc = new BasicMDCAdapter();
        markers = new BasicMarkerFactory();
        loggers = new JuliLoggers(mdc);
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return loggers;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }
}
