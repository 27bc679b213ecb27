# The fork-server's children (kiln_forkloop.Server): reaping each request's
# child and reporting its exit, killing the orphans an ended script left, and
# leaving no child behind at shutdown.

import os
import signal
import time

_PR_SET_CHILD_SUBREAPER = 36


def subreaper():
    # prctl(PR_SET_CHILD_SUBREAPER, 1) for the calling process, returning whether it took. A subreaper gets
    # its descendants' orphans as children instead of init: a script's daemon (double fork, setsid) cannot
    # leave the tree, with or without a cgroup per request.
    try:
        import ctypes
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):
        return lambda: False
    return lambda: prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


class Reaping:
    # Server's part that knows its children: self.children (pid -> request id), self.children_file,
    # self.reaps_orphans, self.directory, and _send/_flush for the exit lines.

    def _reap(self):
        reaped = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            reaped = True
            rid = self.children.pop(pid, None)
            self.spawned.discard(pid)
            if rid is not None:         # else an orphan of an ended script, killed below
                try:
                    os.killpg(pid, signal.SIGKILL)  # what is left in its group: its leader is gone, reported below
                except OSError:
                    pass
                code = os.waitstatus_to_exitcode(status)
                self._send(b'exited %d %d %d\n' % (rid, pid, code if code >= 0 else 128 - code))
        if reaped and self.reaps_orphans:
            if self.out and self.control is not None:
                self._flush()           # Kiln hears of the exits first: a request's slot waits for its line
            self._kill_orphans()

    def _kill_orphans(self):
        # What a script left running is reparented here once it has exited: a forked child is a subreaper
        # while it runs, so nothing of a running forked script's lands here. A spawned one is not one: its
        # orphans come here while it runs, and which script an orphan came from is not known. So each
        # orphan is killed once every spawned script that was running when it was first seen has exited,
        # which a script's own daemon never sees before its script's end. Killing one reparents its own
        # children here in turn; its reaping brings them to this scan.
        try:
            fd = os.open(self.children_file, os.O_RDONLY)     # no file object: fewer pages written per fork
            try:
                chunks = [os.read(fd, 1 << 16)]
                while chunks[-1]:
                    chunks.append(os.read(fd, 1 << 16))
            finally:
                os.close(fd)
            pids = [int(p) for p in b''.join(chunks).split()]
        except (OSError, ValueError):
            return
        orphans = {}
        for pid in pids:
            if pid not in self.children:
                origins = self.orphans.get(pid)
                if origins is None:
                    origins = frozenset(self.spawned)
                if origins.isdisjoint(self.spawned):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                else:
                    orphans[pid] = origins
        self.orphans = orphans

    def _shutdown(self):
        # Kiln is gone or stopping us: no child outlives the fork-server.
        for pid in self.children:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        deadline = time.monotonic() + 2
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.005)
        for name in ('fork.sock', 'forkserver.log'):
            try:
                os.unlink(os.path.join(self.directory, name))
            except OSError:
                pass
        try:
            os.rmdir(self.directory)
        except OSError:
            pass
