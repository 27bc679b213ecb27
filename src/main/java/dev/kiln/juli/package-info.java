/**
 * Kiln's lines through java.util.logging, which inside Tomcat is JULI: the SLF4J provider of kiln-servlet.jar
 * (registered there only; kiln.jar logs through logback). Each record keeps what logback's pattern shows, the
 * logger's name (kiln.script.PATH for a script's stderr) and the request id and pid, in the message, since
 * JULI's one-line format prints the calling class and not the logger.
 * Imports no other dev.kiln package.
 */
package dev.kiln.juli;
