package dev.kiln.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Optional;

import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.FileAppender;

/**
 * The log files the logging configuration names. One that could not be opened stops the start with one line
 * naming the file, the user and the fix, as Apache refuses to start without its logs: a server that runs with
 * no logs at all cannot be operated.
 */
final class LogFiles {
    private LogFiles() {
    }

    /** What is wrong with the first log file that could not be opened, if any. */
    static Optional<String> problem() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return Optional.empty();
        }
        for (Logger logger : context.getLoggerList()) {
            for (Iterator<Appender<ILoggingEvent>> it = logger.iteratorForAppenders(); it.hasNext(); ) {
                if (it.next() instanceof FileAppender<?> file && !file.isStarted() && file.getFile() != null) {
                    return Optional.of(describe(Path.of(file.getFile()).toAbsolutePath()));
                }
            }
        }
        return Optional.empty();
    }

    private static String describe(Path file) {
        String user = System.getProperty("user.name");
        Path dir = file.getParent();
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        String why;
        if (Files.isDirectory(file)) {
            why = "it is a folder";
        } else if (Files.exists(file)) {
            why = "it is not writable by user " + user;
        } else if (existing != null && !existing.equals(dir)) {
            why = "its folder " + dir + " does not exist and " + existing + " is not writable by user " + user;
        } else {
            why = "its folder " + dir + " is not writable by user " + user;
        }
        return "cannot open log file " + file + ": " + why + "; fix: mkdir -p " + dir + " && chown " + user + " "
                + dir + ", or point the logging configuration (-Dkiln.log.dir) at a folder " + user + " can write";
    }
}
