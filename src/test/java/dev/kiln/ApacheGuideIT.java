package dev.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.testing.Commands;
import dev.kiln.testing.KilnJar;

/**
 * The README's Apache migration example, run as written: Debian's gitweb (package gitweb, a symlink in
 * /usr/lib/cgi-bin to git's /usr/share/gitweb) served by kiln.jar with the guide's command line and gitweb
 * configuration, read from the README so the two cannot drift. Only the paths of the guide's own files differ:
 * the configuration file and the repositories are this test's temporary ones.
 */
class ApacheGuideIT {
    private static final String SECTION = "### Example: Debian's gitweb";
    private static final String GUIDE_CONFIG = "/etc/kiln/gitweb.conf";
    private static final String GUIDE_PROJECTS = "/srv/git";
    private static final String JAVA_JAR = "java -jar /opt/kiln/kiln.jar ";

    @TempDir
    Path temp;

    @Test
    void gitwebServesItsProjectsAndItsStyledPages() throws Exception {
        try (KilnJar kiln = startAsTheGuideSays()) {
            HttpResponse<String> list = kiln.get("/cgi-bin/gitweb.cgi");
            assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
            assertThat(list.headers().firstValue("Content-Type")).hasValueSatisfying(
                    t -> assertThat(t).startsWith("text/html"));
            assertThat(list.body()).contains("demo/.git").contains("href=\"/static/gitweb.css\"")
                    .contains("src=\"/static/git-logo.png\"");
            HttpResponse<String> summary = kiln.get("/cgi-bin/gitweb.cgi?p=demo/.git;a=summary");
            assertThat(summary.statusCode()).as(summary.body()).isEqualTo(200);
            assertThat(summary.body()).contains("first commit through the guide").contains("/static/gitweb.js");
            for (String[] asset : new String[][] {{"gitweb.css", "text/css", ".page_header"},
                    {"gitweb.js", "text/javascript", "function"}, {"git-logo.png", "image/png", "PNG"}}) {
                HttpResponse<String> r = kiln.get("/static/" + asset[0]);
                assertThat(r.statusCode()).as(asset[0]).isEqualTo(200);
                assertThat(r.headers().firstValue("Content-Type")).as(asset[0]).hasValueSatisfying(
                        t -> assertThat(t).startsWith(asset[1]));
                assertThat(r.body()).as(asset[0]).contains(asset[2]);
            }
            assertThat(kiln.lines()).as("no refusal, no script error").noneMatch(l -> l.contains(" WARN ")
                    || l.contains(" ERROR "));
        }
    }

    private KilnJar startAsTheGuideSays() throws Exception {
        Path projects = Files.createDirectories(temp.resolve("git"));
        Path repo = projects.resolve("demo");
        Commands.of("git", "init", "-q", repo.toString()).ok();
        Files.writeString(repo.resolve("README"), "served by gitweb through Kiln\n");
        Commands.of("git", "add", "README").in(repo).ok();
        Commands.of("git", "-c", "user.name=Kiln", "-c", "user.email=kiln@localhost", "commit", "-q", "-m",
                "first commit through the guide").in(repo).ok();
        // git reads a repository only for its owner: the script user's, as the guide says
        Commands.of("chown", "-R", "nobody:nogroup", projects.toString()).ok();
        String readme = Files.readString(Path.of("README.md"));
        String section = readme.substring(readme.indexOf(SECTION));
        String config = block(section, "perl");
        assertThat(config).contains("$projectroot = \"" + GUIDE_PROJECTS + "\";");
        Path configFile = Files.writeString(temp.resolve("gitweb.conf"), config.replace(GUIDE_PROJECTS,
                projects.toString()));
        String command = block(section, "sh").replace("\\\n", " ").trim().replaceAll("\\s+", " ");
        assertThat(command).startsWith(JAVA_JAR).contains(GUIDE_CONFIG);
        List<String> args = new ArrayList<>(Arrays.asList(command.substring(JAVA_JAR.length()).split(" ")));
        args.replaceAll(a -> a.replace(GUIDE_CONFIG, configFile.toString()));
        return KilnJar.builder().in(temp).args(args.toArray(String[]::new)).start();
    }

    /** The first fenced block of {@code language} in {@code text}. */
    private static String block(String text, String language) {
        Matcher m = Pattern.compile("```" + language + "\n(.*?)```", Pattern.DOTALL).matcher(text);
        assertThat(m.find()).as("a ```%s block in the README's %s", language, SECTION).isTrue();
        return m.group(1);
    }
}
