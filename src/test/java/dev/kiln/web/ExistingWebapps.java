package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Webapps as their owners had them before Kiln, with Kiln added the README's way: {@code kiln-servlet.jar} in
 * {@code WEB-INF/lib} and the README's web.xml block (read from README.md, so the two cannot drift).
 * <ul>
 * <li>{@code /existing}: a WAR with its own index.html; its scripts outside it, in
 * {@code ${catalina.base}/kiln/existing/cgi-bin}.</li>
 * <li>{@code /migrated}: an unpacked webapp that ran Tomcat's CGIServlet from {@code WEB-INF/cgi}, with the
 * migration guide's worked example as its servlet.</li>
 * </ul>
 */
final class ExistingWebapps {
    static final String STDERR_LINE = "existing webapp: hello.py was here";
    private static final String HELLO_PY = """
            import sys
            from existing_lib import words
            print("%s", file=sys.stderr)
            print("Content-Type: text/plain")
            print()
            print(words.greeting())
            """.formatted(STDERR_LINE);
    private static final String WORDS_PY = """
            def greeting():
                return "Hello from an existing webapp"
            """;
    private static final String REPORT_SH = """
            #!/bin/sh
            printf 'Content-Type: text/plain\\n\\n'
            printf '%s for %s\\n' "$REPORT_TITLE" "$QUERY_STRING"
            printf '%s\\n' "$SCRIPT_FILENAME"
            """;

    private ExistingWebapps() {
    }

    /** Both webapps into {@code base}: the WAR in webapps/, its scripts in kiln/existing/cgi-bin. */
    static void install(Path base) throws IOException {
        Path scripts = Files.createDirectories(base.resolve("kiln/existing/cgi-bin"));
        Files.writeString(scripts.resolve("hello.py"), HELLO_PY);
        Path lib = Files.createDirectories(scripts.resolve("existing_lib"));
        Files.writeString(lib.resolve("__init__.py"), "");
        Files.writeString(lib.resolve("words.py"), WORDS_PY);
        deployExisting(base, 1);

        Path migrated = base.resolve("webapps/migrated");
        Files.createDirectories(migrated.resolve("WEB-INF/lib"));
        Files.copy(servletJar(), migrated.resolve("WEB-INF/lib/kiln-servlet.jar"));
        Files.writeString(migrated.resolve("WEB-INF/web.xml"),
                webXml("Reports", ReadmeBlocks.xmlAfter("#### Worked example")));
        Path cgi = Files.createDirectories(migrated.resolve("WEB-INF/cgi"));
        Files.writeString(cgi.resolve("report.sh"), REPORT_SH);
        cgi.resolve("report.sh").toFile().setExecutable(true, false);
    }

    /**
     * Writes webapps/existing.war (index.html saying {@code version N}) beside it, then moves it in at once, as a
     * deploy tool would: Tomcat sees a new WAR and redeploys the context.
     */
    static void deployExisting(Path base, int version) throws IOException {
        Path war = base.resolve("webapps/existing.war");
        Path partial = base.resolve("temp/existing.war.partial");
        Map<String, byte[]> entries = Map.of(
                "index.html", ("<!doctype html><title>Existing</title><p>existing webapp, version " + version
                        + "</p>\n").getBytes(StandardCharsets.UTF_8),
                "WEB-INF/web.xml", webXml("Existing", ReadmeBlocks.xmlAfter("### Adding Kiln to an existing webapp"))
                        .getBytes(StandardCharsets.UTF_8),
                "WEB-INF/lib/kiln-servlet.jar", Files.readAllBytes(servletJar()));
        try (OutputStream file = Files.newOutputStream(partial); ZipOutputStream zip = new ZipOutputStream(file)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        if (Files.exists(war)) {
            // Tomcat compares the WAR's modification time with the one it deployed, to the second
            partial.toFile().setLastModified(Files.getLastModifiedTime(war).toMillis() + 5000);
        }
        Files.move(partial, war, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A minimal web.xml: the webapp's welcome file and the block given. */
    private static String webXml(String name, String block) {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee"
                         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                         xsi:schemaLocation="https://jakarta.ee/xml/ns/jakartaee https://jakarta.ee/xml/ns/jakartaee/web-app_6_0.xsd"
                         version="6.0">
                  <display-name>%s</display-name>
                  <welcome-file-list><welcome-file>index.html</welcome-file></welcome-file-list>
                %s
                </web-app>
                """.formatted(name, block);
    }

    private static Path servletJar() {
        String jar = System.getProperty("kiln.servlet.jar");
        assertThat(jar).as("system property kiln.servlet.jar (set by maven-failsafe)").isNotBlank();
        assertThat(Path.of(jar)).as("kiln-servlet.jar (run after package)").isRegularFile();
        return Path.of(jar);
    }
}
