package dev.kiln.config;

/** A bad option or value, with a message fit to print as the one line Kiln says before exiting with code 2. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message, null, false, false);
    }
}
