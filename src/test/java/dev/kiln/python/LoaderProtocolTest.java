package dev.kiln.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.kiln.cache.CacheOp;
import dev.kiln.forkserver.WarmCode;

/** The loader's marked lines as Kiln reads them: every op word it knows, and words it does not. */
class LoaderProtocolTest {
    private static LoaderProtocol.Message.CacheError cacheError(String line) {
        LoaderProtocol.Message m = LoaderProtocol.parse(line);
        assertThat(m).isInstanceOf(LoaderProtocol.Message.CacheError.class);
        return (LoaderProtocol.Message.CacheError) m;
    }

    @Test
    void everyOpWordTheLoaderSendsIsKnown() {
        for (String word : new String[] {"mkdir", "read", "write", "lock"}) {
            CacheOp op = cacheError("cache-error op=" + word + " errno=EACCES path=/c/py/a%20b dir=/c/py").op();
            assertThat(op).isNotEqualTo(CacheOp.OTHER);
            assertThat(op.word()).isEqualTo(word);
        }
    }

    @Test
    void anOpWordFromANewerLoaderIsOtherNotAnError() {
        LoaderProtocol.Message.CacheError e = cacheError("cache-error op=rename errno=EXDEV path=/c/py/x dir=/c");
        assertThat(e.op()).isEqualTo(CacheOp.OTHER);
        assertThat(e.errno()).isEqualTo("EXDEV");
        assertThat(e.path()).isEqualTo(Path.of("/c/py/x"));
        assertThat(e.dir()).isEqualTo(Path.of("/c"));
    }

    @Test
    void aColdModuleKeepsItsPathsEscapedForTheForkServer() {
        assertThat(LoaderProtocol.parse("cold pyc=/c/py/s/caf%C3%A9.cpython-311.pyc source=/s/caf%C3%A9.py"))
                .isEqualTo(new LoaderProtocol.Message.Cold(
                        new WarmCode("/c/py/s/caf%C3%A9.cpython-311.pyc", "/s/caf%C3%A9.py")));
        // what a script forges with words that are not escaped paths stays unknown: nothing reaches CONTROL
        for (String forged : new String[] {"cold pyc=/a\tkill source=/b", "cold pyc=/a", "cold source=/b pyc=",
                "cold pyc=/a source=/b\u0000"}) {
            assertThat(LoaderProtocol.parse(forged)).as(forged).isInstanceOf(LoaderProtocol.Message.Unknown.class);
        }
    }

    @Test
    void aLineWithoutOpIsAWriteAsBefore() {
        LoaderProtocol.Message.CacheError e = cacheError("cache-error errno=ENOSPC path=/c/py/x.pyc");
        assertThat(e.op()).isEqualTo(CacheOp.WRITE);
        assertThat(e.dir()).isNull();
    }
}
