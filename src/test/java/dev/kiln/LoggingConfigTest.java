package dev.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;

/** conf/logback.xml is the documented default: the built-in one, its line format, and its JSON alternative. */
class LoggingConfigTest {
    private static final Pattern PATTERN = Pattern.compile("<pattern>(.*)</pattern>");

    @Test
    void confLogbackXmlIsTheBuiltInDefault() throws Exception {
        assertThat(Files.readString(Path.of("conf/logback.xml")))
                .isEqualTo(Files.readString(Path.of("src/main/resources/logback.xml")))
                .contains("kiln.access").contains("kiln.script.").contains("JsonEncoder");
    }

    @Test
    void eachLineCarriesTheRequestIdAndPidWhenThereAreOnes() throws Exception {
        Matcher m = PATTERN.matcher(Files.readString(Path.of("conf/logback.xml")));
        assertThat(m.find()).isTrue();
        LoggerContext context = new LoggerContext();
        PatternLayout layout = new PatternLayout();
        layout.setContext(context);
        layout.setPattern(m.group(1));
        layout.start();
        Logger logger = context.getLogger("kiln.script.app.py");
        String line = layout.doLayout(event(logger, Map.of("request", "AbC123", "pid", "4242"), "Traceback"));
        assertThat(line).matches("\\d{4}-\\d\\d-\\d\\d [\\d:.]+ WARN  \\[kiln.script.app.py\\] req=AbC123 pid=4242 "
                + "Traceback\\R");
        String plain = layout.doLayout(event(context.getLogger("kiln"), Map.of(), "started"));
        assertThat(plain).matches("\\d{4}-\\d\\d-\\d\\d [\\d:.]+ WARN  \\[kiln\\] started\\R");

        JsonEncoder json = new JsonEncoder();
        json.setContext(context);
        json.start();
        String object = new String(json.encode(event(logger, Map.of("request", "AbC123"), "Traceback")),
                StandardCharsets.UTF_8);
        assertThat(object).contains("\"request\"").contains("AbC123").contains("Traceback");
    }

    private static LoggingEvent event(Logger logger, Map<String, String> mdc, String message) {
        LoggingEvent e = new LoggingEvent(Logger.class.getName(), logger, Level.WARN, message, null, null);
        e.setMDCPropertyMap(mdc);
        return e;
    }
}
