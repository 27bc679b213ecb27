package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.kiln.cache.CacheMode;
import dev.kiln.cache.CacheOp;
import dev.kiln.config.PycValidation;
import dev.kiln.testing.Json;

/**
 * Every message between Kiln and its Python files goes through both sides: what kiln_protocol.py writes,
 * {@link LoaderProtocol} reads, and what LoaderProtocol builds, kiln_protocol.py parses, on the real python3.
 */
class LoaderProtocolRoundTripTest {
    @TempDir
    Path base;

    BootRuntime py;

    @BeforeEach
    void setUp() throws Exception {
        py = new BootRuntime(base);
    }

    /** Runs code with kiln_protocol imported as p; returns its stdout. */
    private String python(String code) throws Exception {
        PyRun run = py.run(List.of(BootRuntime.PYTHON, "-c", "import sys, json\nsys.path.insert(0, "
                + BootRuntime.pyStr(py.runtime.toString()) + ")\nimport kiln_protocol as p\n" + code), Map.of());
        assertThat(run.exit()).as(run.stderr()).isZero();
        return run.stdout();
    }

    @Test
    void bothSidesUseOneMarker() throws Exception {
        assertThat(python("sys.stdout.write(p.MARKER)")).isEqualTo(LoaderProtocol.MARKER);
    }

    @Test
    void statsLinesReadAsWritten() throws Exception {
        String line = python("sys.stdout.write(p.stats_line(3, 14, 159, 2653))");
        assertThat(line).startsWith(LoaderProtocol.MARKER).endsWith("\n");
        String message = line.substring(LoaderProtocol.MARKER.length(), line.length() - 1);
        assertThat(LoaderProtocol.parse(message)).isEqualTo(new LoaderProtocol.Message.Stats(3, 14, 159, 2653));
    }

    @ParameterizedTest(name = "cache-error {0} {1} at {2}")
    @CsvSource({
        "mkdir, EACCES, /c/py/srv/cgi bin/a b, /c/py",
        "write, ENOSPC, /c/py/x.cpython-311.pyc, /c",
        "lock, ENOLCK, /c/py/dir with = sign/, /c/py",
        "read, EIO, /c/py/op=read path=/x.pyc, /c/py/op=read path=",
        "write, EACCES, '/c/py/new\nline\r 100% é', /c/py",
    })
    void cacheErrorLinesReadAsWritten(String op, String errno, String path, String dir) throws Exception {
        String line = python("sys.stdout.write(p.cache_error_line(" + BootRuntime.pyStr(op) + ", "
                + BootRuntime.pyStr(errno) + ", " + BootRuntime.pyStr(path) + ", " + BootRuntime.pyStr(dir) + "))");
        LoaderProtocol.Message m = LoaderProtocol.parse(line.substring(LoaderProtocol.MARKER.length(),
                line.length() - 1));
        assertThat(m).isEqualTo(new LoaderProtocol.Message.CacheError(CacheOp.of(op), errno, Path.of(path),
                Path.of(dir)));
    }

    @Test
    void bootArgumentsParseAsBuilt() throws Exception {
        List<String> argv = LoaderProtocol.bootArgs(Path.of("/r/kiln_boot.py"), CacheMode.RO,
                PycValidation.CHECKED_HASH, Path.of("/srv/cgi bin"), Path.of("/srv/cgi bin/app.py"),
                List.of("one", "--two", ""));
        JsonNode parsed = Json.tree(python("a = p.parse_boot_args(" + pyList(argv.subList(1, argv.size()))
                + ")\nprint(json.dumps(dict(zip(p.BOOT_FIELDS, a))))"));
        assertThat(argv.get(0)).isEqualTo("/r/kiln_boot.py");
        assertThat(parsed.path("mode").asText()).isEqualTo("ro");
        assertThat(parsed.path("validation").asText()).isEqualTo("checked-hash");
        assertThat(parsed.path("root").asText()).isEqualTo("/srv/cgi bin");
        assertThat(parsed.path("script").asText()).isEqualTo("/srv/cgi bin/app.py");
        assertThat(Json.stringList(parsed.path("args").toString())).containsExactly("one", "--two", "");
    }

    @Test
    void precompileArgumentsParseAsBuilt() throws Exception {
        List<String> argv = LoaderProtocol.precompileArgs(Path.of("/r/kiln_precompile.py"), PycValidation.TIMESTAMP,
                Path.of("/srv/cgi-bin"), List.of(Path.of("/srv/cgi-bin/a.py"), Path.of("/srv/cgi-bin/sub/b.cgi")));
        JsonNode parsed = Json.tree(python("a = p.parse_precompile_args(" + pyList(argv.subList(1, argv.size()))
                + ")\nprint(json.dumps(dict(zip(p.PRECOMPILE_FIELDS, a))))"));
        assertThat(parsed.path("validation").asText()).isEqualTo("timestamp");
        assertThat(parsed.path("root").asText()).isEqualTo("/srv/cgi-bin");
        assertThat(Json.stringList(parsed.path("scripts").toString()))
                .containsExactly("/srv/cgi-bin/a.py", "/srv/cgi-bin/sub/b.cgi");
    }

    @Test
    void precompileEventsReadAsWritten() throws Exception {
        List<String> lines = python("""
                for e in (p.event_line('script', path='/s/a "b".py', index=2, total=5),
                          p.event_line('compiled', path='/s/lib/m.py'),
                          p.event_line('error', path='/s/bad.py', line=3, message='invalid syntax: é'),
                          p.event_line('error', path='/s/gone.py', line=None, message='cannot read'),
                          p.event_line('summary', scripts=5, compiled=7, fresh=2, errors=1)):
                    sys.stdout.write(e)
                """).lines().toList();
        assertThat(lines).hasSize(5);
        assertThat(LoaderProtocol.precompileEvent(lines.get(0)))
                .isEqualTo(new LoaderProtocol.PrecompileEvent.Script(Path.of("/s/a \"b\".py"), 2, 5));
        assertThat(LoaderProtocol.precompileEvent(lines.get(1)))
                .isEqualTo(new LoaderProtocol.PrecompileEvent.Other("compiled"));
        assertThat(LoaderProtocol.precompileEvent(lines.get(2)))
                .isEqualTo(new LoaderProtocol.PrecompileEvent.Error("/s/bad.py", "3", "invalid syntax: é"));
        assertThat(LoaderProtocol.precompileEvent(lines.get(3)))
                .isEqualTo(new LoaderProtocol.PrecompileEvent.Error("/s/gone.py", null, "cannot read"));
        assertThat(LoaderProtocol.precompileEvent(lines.get(4)))
                .isEqualTo(new LoaderProtocol.PrecompileEvent.Summary(5, 7, 2, 1));
    }

    private static String pyList(List<String> items) {
        StringBuilder b = new StringBuilder("[");
        for (String s : items) {
            b.append(BootRuntime.pyStr(s)).append(", ");
        }
        return b.append("]").toString();
    }
}
