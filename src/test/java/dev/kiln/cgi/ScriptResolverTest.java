package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScriptResolverTest {
    @TempDir
    Path temp;
    Path root;
    ScriptResolver resolver;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createDirectories(temp.resolve("cgi-bin"));
        Files.writeString(root.resolve("app.py"), "print()");
        Files.createDirectories(root.resolve("sub/deeper"));
        Files.writeString(root.resolve("sub/deeper/tool.sh"), "#!/bin/sh");
        Files.writeString(root.resolve(".secret"), "x");
        Files.createDirectories(root.resolve(".hidden"));
        Files.writeString(root.resolve(".hidden/run.py"), "x");
        Files.writeString(temp.resolve("outside.py"), "x");
        Files.createSymbolicLink(root.resolve("escape.py"), temp.resolve("outside.py"));
        Files.createSymbolicLink(root.resolve("escape-dir"), temp);
        Files.createSymbolicLink(root.resolve("alias.py"), root.resolve("app.py"));
        resolver = new ScriptResolver(root);
    }

    @Test
    void firstRegularFileIsTheScriptAndTheRestIsPathInfo() throws Exception {
        ScriptResolver.Result r = resolver.resolve("/sub/deeper/tool.sh/a/b/../c.txt");
        assertThat(r.script()).isNotNull();
        assertThat(r.script().file()).isEqualTo(root.toRealPath().resolve("sub/deeper/tool.sh"));
        assertThat(r.script().scriptPath()).isEqualTo("/sub/deeper/tool.sh");
        assertThat(r.script().pathInfo()).isEqualTo("/a/b/../c.txt");
    }

    @Test
    void scriptWithoutPathInfoAndWithTrailingSlash() {
        assertThat(resolver.resolve("/app.py").script().pathInfo()).isEmpty();
        assertThat(resolver.resolve("/app.py/").script().pathInfo()).isEqualTo("/");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/../outside.py", "/sub/../app.py", "/./app.py", "//app.py", "/app.py\0.txt",
            "/sub\\..\\app.py"})
    void dotSegmentsAndOddBytesAreRefused(String path) {
        assertThat(resolver.resolve(path).refusal()).isEqualTo(ScriptResolver.Refusal.FORBIDDEN);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/.secret", "/.hidden/run.py"})
    void hiddenNamesAreNotFound(String path) {
        assertThat(resolver.resolve(path).refusal()).isEqualTo(ScriptResolver.Refusal.NOT_FOUND);
    }

    @Test
    void symlinksMayNotLeaveTheFolder() {
        assertThat(resolver.resolve("/escape.py").refusal()).isEqualTo(ScriptResolver.Refusal.FORBIDDEN);
        assertThat(resolver.resolve("/escape-dir/outside.py").refusal()).isEqualTo(ScriptResolver.Refusal.FORBIDDEN);
        assertThat(resolver.resolve("/alias.py").script()).isNotNull();
    }

    @Test
    void foldersAndMissingFilesAreNotScripts() {
        assertThat(resolver.resolve("/sub").refusal()).isEqualTo(ScriptResolver.Refusal.NOT_FOUND);
        assertThat(resolver.resolve("/sub/").refusal()).isEqualTo(ScriptResolver.Refusal.FORBIDDEN);
        assertThat(resolver.resolve("/nope.py").refusal()).isEqualTo(ScriptResolver.Refusal.NOT_FOUND);
        assertThat(resolver.resolve("/").refusal()).isEqualTo(ScriptResolver.Refusal.NOT_FOUND);
        assertThat(resolver.resolve(null).refusal()).isEqualTo(ScriptResolver.Refusal.NOT_FOUND);
    }
}
