package dev.kiln.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.kiln.testing.KilnTestServer;

/**
 * A request's cgroup counts the forks its pids limit refused, and still knows the count once the cgroup is gone:
 * the request's thread may remove it (the response was whole) before the script's exit is reported, and the
 * report is what says which limit the script hit.
 */
class CageTest {
    @Test
    void theRefusedForksAreKnownAfterTheCgroupIsRemoved() throws Exception {
        Optional<RequestCgroups> cgroups = RequestCgroups.open();
        assumeThat(cgroups).as("this machine delegates a pids cgroup to Kiln").isPresent();
        try (RequestCgroups all = cgroups.get()) {
            Cage cage = all.create(3);
            // joins, then forks 6 sleeps: the limit of 3 refuses 4 of them
            Process py = new ProcessBuilder(KilnTestServer.DEBIAN_PYTHON, "-c", """
                    import os, sys
                    open(sys.argv[1], 'w').write(str(os.getpid()))
                    for _ in range(6):
                        try:
                            if os.fork() == 0:
                                os.execv('/bin/sleep', ['sleep', '30'])
                        except OSError:
                            pass
                    """, cage.procs().toString()).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            assertThat(py.waitFor(10, TimeUnit.SECONDS)).isTrue();
            long before = cage.refusedForks();
            assertThat(before).as("forks refused while the cgroup is there").isEqualTo(4);
            cage.close();
            assertThat(cage.procs().getParent()).as("removed").doesNotExist();
            assertThat(cage.refusedForks()).as("forks refused, once the cgroup is gone").isEqualTo(before);
            cage.close();
            assertThat(cage.refusedForks()).as("after a second close").isEqualTo(before);
        }
    }

    @Test
    void aRequestWithoutACgroupRefusedNothing() {
        Cage.NONE.close();
        assertThat(Cage.NONE.refusedForks()).isZero();
        assertThat(Cage.NONE.procs()).isNull();
    }
}
