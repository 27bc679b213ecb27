# The fork-server's loop (see kiln_forkserver.py for the protocol): accepts
# Kiln's connections, pairs each request's two halves, forks, reaps, reports.
# Imported after the preload, so that a child can drop what only this uses.

import sys
import os
import selectors
import signal
import socket
import time

import kiln_forkchild
import kiln_forkreap
import kiln_forkspawn
import kiln_warmcode

_HEADER = 16
_MAX_REQUEST = 1 << 20
_SIGNALS = kiln_forkchild.SERVER_SIGNALS
_PEERCRED = getattr(socket, 'SO_PEERCRED', None)     # Linux: (pid, uid, gid) of the peer


class _Conn:
    __slots__ = ('sock', 'buf', 'need', 'kind', 'rid', 'since')

    def __init__(self, sock):
        self.sock, self.buf, self.need, self.kind, self.rid = sock, bytearray(), _HEADER, None, None
        self.since = time.monotonic()


class Server(kiln_forkreap.Reaping):
    def __init__(self, directory, lines, boot):
        self.boot = boot
        self.kiln = os.getppid()
        self.children_file = '/proc/self/task/%d/children' % os.getpid()
        # The fork-server and each child are subreapers: while a script runs its orphans are its own children;
        # once it has exited they are the fork-server's, which kills every child that is not a request's.
        self.subreaper = kiln_forkreap.subreaper()
        self.reaps_orphans = self.subreaper()
        self.directory = directory
        self.path = os.path.join(directory, 'fork.sock')
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(256)
        self.listener.setblocking(False)
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        signal.set_wakeup_fd(self.wake_w.fileno(), warn_on_full_buffer=False)
        for sig in _SIGNALS:
            signal.signal(sig, self._on_signal)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, self._accept)
        self.sel.register(self.wake_r, selectors.EVENT_READ, self._wake)
        self.control = None
        self.commands = bytearray()     # CONTROL's last line, until its newline comes
        self.out = bytearray(b''.join(lines))
        self.conns = {}         # socket -> _Conn, until forked or dropped
        self.halves = {}        # request id -> (_Conn, request, env) or _Conn (stdout)
        self.children = {}      # pid -> request id
        self.spawned = set()    # those of them started by posix_spawn: not subreapers (kiln_forkreap)
        self.orphans = {}       # pid -> the spawned scripts running when it was first seen (kiln_forkreap)
        self.stopping = False
        self.child = None       # in a forked child: what it needs to become the request

    def serve(self):
        last_sweep = time.monotonic()
        while not self.stopping:
            for key, mask in self.sel.select(5.0 if self.conns else None):
                data = key.data
                if type(data) is _Conn:
                    self._read(data)
                else:
                    data(mask)
                if self.child is not None:
                    return self.child
            self._reap()
            if self.out and self.control is not None:
                self._flush()
            if self.conns and time.monotonic() - last_sweep > 10:
                last_sweep = time.monotonic()
                for c in [c for c in self.conns.values() if last_sweep - c.since > 30]:
                    self._drop(c)       # its other half never came
        self._shutdown()
        return None

    def _on_signal(self, signum, frame):
        if signum != signal.SIGCHLD:
            self.stopping = True

    def _wake(self, mask):
        try:
            while self.wake_r.recv(256):
                pass
        except BlockingIOError:
            pass

    def _accept(self, mask):
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:      # EMFILE...: Kiln's connect waits in the backlog
                self._send(b'note accept failed: %s; fix: raise its open-files limit\n' % str(exc).encode())
                return
            if _PEERCRED and int.from_bytes(sock.getsockopt(
                    socket.SOL_SOCKET, _PEERCRED, 12)[:4], sys.byteorder) != self.kiln:
                sock.close()            # not Kiln: another process of Kiln's user
                continue
            sock.setblocking(False)
            c = self.conns[sock] = _Conn(sock)
            self.sel.register(sock, selectors.EVENT_READ, c)

    def _read(self, c):
        # Each step (header, size, request) as soon as its bytes are there: one wake-up when Kiln wrote them
        # together. Never past the request: what follows is the child's stdin.
        while True:
            try:
                data = c.sock.recv(max(c.need - len(c.buf), 1))
            except BlockingIOError:
                return
            except OSError:
                data = b''
            if not data or len(c.buf) >= c.need:
                self._drop(c)               # Kiln gave up on it (or sent more than it may)
                return
            c.buf += data
            if len(c.buf) < c.need:
                continue
            if c.kind is None:
                if c.buf[:4] != b'KFS1' or c.buf[5:8] != b'\0\0\0' or c.buf[4:5] not in (b'C', b'I', b'O'):
                    self._drop(c)
                    return
                c.kind, c.rid = bytes(c.buf[4:5]), int.from_bytes(c.buf[8:16], 'big')
                if c.kind == b'C':
                    self._control(c)
                    return
                if c.kind == b'O':
                    self._half(c.rid, c)
                    return
                c.need += 4
            elif c.need == _HEADER + 4:
                size = int.from_bytes(c.buf[_HEADER:], 'big')
                if not 0 < size <= _MAX_REQUEST:
                    self._refuse(c, 'request of %d bytes is not within 1..%d' % (size, _MAX_REQUEST))
                    return
                c.need += size
            else:
                self.sel.unregister(c.sock)     # what follows is the body: the child's
                try:
                    request, env = parse(bytes(c.buf[_HEADER + 4:]))
                except ValueError:
                    self._refuse(c, 'malformed request')
                    return
                self._half(c.rid, (c, request, env))
                return

    def _control(self, c):
        del self.conns[c.sock]
        if self.control is not None:
            self.sel.unregister(c.sock)
            c.sock.close()
            return
        self.control = c.sock
        self.sel.modify(c.sock, selectors.EVENT_READ, self._command)

    def _command(self, mask):
        if mask & selectors.EVENT_WRITE:
            self._flush()
        if not mask & selectors.EVENT_READ:
            return
        try:
            data = self.control.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b''
        if not data:
            self.stopping = True        # Kiln closed it, or died
            return
        self.commands += data
        *lines, rest = self.commands.split(b'\n')
        self.commands = rest if len(rest) < 1 << 16 else bytearray()   # a line's end may come in the next recv
        for line in lines:
            words = bytes(line).split()
            try:
                if len(words) == 3 and words[0] in (b'kill', b'killpg') and int(words[1]) in self.children:
                    (os.kill if words[0] == b'kill' else os.killpg)(int(words[1]), int(words[2]))
                elif len(words) == 3 and words[0] == b'warm':
                    kiln_warmcode.load(words[1], words[2])
            except (ValueError, OSError):
                pass

    def _half(self, rid, half):
        other = self.halves.pop(rid, None)
        if other is None:
            self.halves[rid] = half
        elif type(half) is _Conn and type(other) is tuple:
            self._fork(rid, other, half)
        elif type(half) is tuple and type(other) is _Conn:
            self._fork(rid, half, other)
        else:
            self._refuse(half if type(half) is _Conn else half[0], 'request id used twice')

    def _fork(self, rid, inout, out):
        c, request, env = inout
        # an exec'd child starts an interpreter of its own (if any): the fork-server's start-up is not its
        mismatch = None if request[3] in (b'exec', b'spawn') else kiln_forkchild.startup_mismatch(env)
        if mismatch is not None:
            self._refuse(out, "%s differs from the fork-server's start-up value" % mismatch, c)
            return
        if request[3] == b'spawn':
            pid = kiln_forkspawn.spawn(request, env, c.sock.fileno(), out.sock.fileno())
            if pid is not None:
                self.spawned.add(pid)
                self._started(rid, pid, c, out, True)
                return
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            pid = os.fork()
        except OSError as exc:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            self._refuse(out, 'fork failed: %s' % exc, c)
            return
        if pid == 0:
            keep = (c.sock, out.sock)
            drop = [s for s in self.conns if s not in keep]
            drop += [self.listener, self.wake_r, self.wake_w] + ([self.control] if self.control else [])
            self.child = (request, env, keep, drop, self.sel, self.boot, self.subreaper)
            return
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        self._started(rid, pid, c, out, request[3] == b'spawn')

    def _started(self, rid, pid, c, out, spawn):
        self.children[pid] = rid
        if spawn:
            self._send(b'spawned %d %d\n' % (rid, pid))   # its stdout is the script's from the first byte
        for half in (c, out):
            self._forget(half)

    def _refuse(self, c, reason, other=None):
        self._send(b'refused %d %s\n' % (c.rid or 0, reason.encode('utf-8', 'replace')))
        self._drop(c)
        if other is not None:
            self._drop(other)

    def _drop(self, c):
        if self.halves.get(c.rid) is c or type(self.halves.get(c.rid)) is tuple and self.halves[c.rid][0] is c:
            del self.halves[c.rid]
        self._forget(c)

    def _forget(self, c):
        if self.conns.pop(c.sock, None) is not None and c.sock in self.sel.get_map():
            self.sel.unregister(c.sock)
        c.sock.close()

    def _send(self, line):
        self.out += line

    def _flush(self):
        try:
            del self.out[:self.control.send(self.out)]
        except BlockingIOError:
            pass
        except OSError:
            self.stopping = True
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.out else 0)
        if self.sel.get_key(self.control).events != events:
            self.sel.modify(self.control, events, self._command)


def parse(payload):
    # (uid, gid, groups, how the child runs, cwd, argv), environment: see kiln_forkserver.py.
    fields = payload.split(b'\0')
    if len(fields) < 7 or fields.pop() != b'':
        raise ValueError(payload)
    argc = int(fields[5])
    argv = fields[6:6 + argc]
    if len(argv) != argc or argc < (1 if fields[3] in (b'exec', b'spawn') else 4):
        raise ValueError(payload)
    env = dict(item.split(b'=', 1) for item in fields[6 + argc:])
    groups = [int(g) for g in fields[2].split(b',') if g]
    return (int(fields[0]), int(fields[1]), groups, fields[3], fields[4], argv), env
