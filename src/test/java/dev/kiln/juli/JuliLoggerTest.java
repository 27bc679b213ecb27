package dev.kiln.juli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** kiln-servlet.jar's SLF4J provider: what reaches java.util.logging (Tomcat's JULI) for each line Kiln logs. */
class JuliLoggerTest {
    private static final String NAME = "kiln.script.reports/month.py";
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger jul = Logger.getLogger(NAME);
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final JuliProvider provider = new JuliProvider();

    @BeforeEach
    void capture() {
        provider.initialize();
        jul.addHandler(capture);
        jul.setUseParentHandlers(false);
    }

    @AfterEach
    void release() {
        jul.removeHandler(capture);
        jul.setUseParentHandlers(true);
        jul.setLevel(null);
    }

    @Test
    void aLineKeepsTheLoggerNameTheRequestIdAndThePidAndNamesItsCaller() {
        provider.getMDCAdapter().put("request", "r-17");
        provider.getMDCAdapter().put("pid", "4242");
        try {
            provider.getLoggerFactory().getLogger(NAME).warn("disk {} is {}% full", "/srv", 93);
        } finally {
            provider.getMDCAdapter().clear();
        }
        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.getMessage()).isEqualTo("[" + NAME + "] req=r-17 pid=4242 disk /srv is 93% full");
            assertThat(r.getLevel()).isEqualTo(Level.WARNING);
            assertThat(r.getLoggerName()).isEqualTo(NAME);
            assertThat(r.getSourceClassName()).isEqualTo(JuliLoggerTest.class.getName());
            assertThat(r.getSourceMethodName()).isEqualTo("aLineKeepsTheLoggerNameTheRequestIdAndThePidAndNamesItsCaller");
        });
    }

    @Test
    void levelsAreJulsAndItsLevelDecides() {
        var log = provider.getLoggerFactory().getLogger(NAME);
        assertThat(log.isInfoEnabled()).isTrue();
        log.debug("not at INFO");
        Exception e = new IllegalStateException("boom");
        log.error("failed", e);
        jul.setLevel(Level.FINE);
        log.debug("now at FINE");
        assertThat(records).extracting(LogRecord::getLevel).containsExactly(Level.SEVERE, Level.FINE);
        assertThat(records.get(0).getThrown()).isSameAs(e);
        assertThat(records.get(0).getMessage()).isEqualTo("[" + NAME + "] failed");
        assertThat(log.isTraceEnabled()).isFalse();
    }
}
