package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kiln.config.KilnConfig;

/** The WAR's sources read in the standalone order (a variable beats the file), and its default folders. */
class WarConfigTest {
    @TempDir
    Path temp;

    private KilnConfig resolve(Map<String, String> env, Map<String, String> servlet, Map<String, String> context) {
        Map<String, String> defaults = Map.of("scripts", temp.toString(), "cache", temp.resolve("cache").toString());
        return KilnConfig.resolve(WarConfig.sources(env, servlet, context, defaults), Map.of("HOME", temp.toString()));
    }

    @Test
    void environmentThenServletInitParamThenContextInitParamThenDefault() {
        KilnConfig c = resolve(Map.of("timeout", "7s"),
                Map.of("timeout", "3s", "idle-timeout", "4s"),
                Map.of("timeout", "2s", "idle-timeout", "2s", "kill-grace", "1s"));
        assertThat(c.timeouts().timeout()).isEqualTo(Duration.ofSeconds(7));     // environment beats web.xml
        assertThat(c.timeouts().idleTimeout()).isEqualTo(Duration.ofSeconds(4)); // servlet beats context
        assertThat(c.timeouts().killGrace()).isEqualTo(Duration.ofSeconds(1));   // context beats default
        assertThat(c.folders().scripts()).isEqualTo(temp);                       // the webapp's default
    }

    @Test
    void tomcatsEnvironmentVariableParamsAreVariablesForScripts() {
        Map<String, String> params = WarConfig.translate(Map.of("environment-variable-APP_MODE", "a,b=c"), null);
        assertThat(params).containsExactly(Map.entry("env.APP_MODE", "a,b=c"));
        assertThat(resolve(Map.of(), params, Map.of()).protocol().env()).containsEntry("APP_MODE", "a,b=c");
    }

    @Test
    void insideTomcatScriptsAndCacheDefaultOutsideTheWebapp() throws Exception {
        Path bundled = Files.createDirectories(temp.resolve("webapps/shop/WEB-INF/cgi-bin"));
        Path work = Files.createDirectories(temp.resolve("work/Catalina/localhost/shop"));
        WebappFolders before = WebappFolders.of("/shop", bundled, work, temp.toString());
        assertThat(before.scripts()).as("no folder made yet: the webapp's own").isEqualTo(bundled);
        assertThat(before.scriptsInsideWebapp()).isTrue();
        assertThat(before.cache()).isEqualTo(temp.resolve("kiln/shop/cache"));

        Path outside = Files.createDirectories(temp.resolve("kiln/shop/cgi-bin"));
        WebappFolders after = WebappFolders.of("/shop", bundled, work, temp.toString());
        assertThat(after.scripts()).isEqualTo(outside);
        assertThat(after.scriptsInsideWebapp()).isFalse();

        WebappFolders elsewhere = WebappFolders.of("/shop", bundled, work, null);
        assertThat(elsewhere.scripts()).isEqualTo(bundled);
        assertThat(elsewhere.cache()).isEqualTo(work.resolve("kiln-cache"));
    }

    @Test
    void contextNamesAreTomcats() {
        assertThat(WebappFolders.contextName("")).isEqualTo("ROOT");
        assertThat(WebappFolders.contextName("/kiln")).isEqualTo("kiln");
        assertThat(WebappFolders.contextName("/a/b")).isEqualTo("a#b");
    }
}
