# Kiln's warm fork-server: one per Python interpreter and set of interpreter
# flags. It imports a preload list once, then forks a child per request that
# becomes the request (kiln_forkchild.py), at a fraction of an interpreter
# start. It never runs script code, is never on the data path and is single-
# threaded.
#
#     python [flags] kiln_forkserver.py <socket-dir> <mode> <validation> <root> [module...]
#
# <socket-dir> is a folder only Kiln's user can enter; the fork-server listens
# on <socket-dir>/fork.sock and accepts connections from Kiln's process only
# (SO_PEERCRED: the pid that started it). <mode> <validation> <root> configure
# kiln_loader for the preload imports; the modules are looked up in <root>
# first. Once listening it writes "ready <pid>\n" on its stdout and closes it;
# its stderr is its own log. SIGTERM, SIGHUP and SIGINT stop it as the end of
# CONTROL does.
#
# Every connection starts with a 16-byte header: b'KFS1', a kind byte, three
# zero bytes, a 64-bit big-endian request id.
#
#   kind C  CONTROL, the first connection, one per fork-server. Kiln -> server:
#           "kill <pid> <signal>\n", "killpg <pid> <signal>\n" (only to an
#           unreaped child), "warm <pyc> <source>\n" (kiln_warmcode.py).
#           Server -> Kiln: "loaded <mtime_ns> <path>\n" per
#           preloaded file, "note <text>\n", then per request either
#           "refused <id> <reason>\n" or, for "spawn" only, "spawned <id>
#           <pid>\n" once it runs and, once the child is reaped,
#           "exited <id> <pid> <status>\n" (exit code, or 128 + signal), sent
#           once what was left in the child's process group got SIGKILL. When
#           it closes (Kiln stopped or died) every child's process group gets
#           SIGKILL and the fork-server exits.
#   kind O  the child's stdout (fd 1). The child first writes its pid there
#           (8 bytes, big-endian): Kiln waits for it on its own connection,
#           nothing goes through CONTROL for a start; not for "spawn", whose
#           pid comes on CONTROL. Then the script's output until EOF. A
#           refused request's is closed at once.
#   kind I  the child's stdin and stderr (fd 0 and 2): after the header a
#           32-bit big-endian length and the request, NUL-terminated fields:
#           uid, gid (-1: keep), supplementary gids (comma-separated), how
#           the child runs ("quick": the script, ending by kiln_forkexit.py;
#           "exec": it execs argv, a script that is not Python; "spawn": the
#           same, by posix_spawn where it can (kiln_forkspawn.py); else the
#           script, ending as the interpreter does), working folder, argc,
#           argv (kiln_boot.py's arguments: mode, validation, root, script,
#           script args; for exec the command line), then KEY=VALUE per
#           variable. Then
#           Kiln writes the body and shuts its output down (EOF on stdin) and
#           reads stderr until EOF.
#
# Stdout has a socket of its own so that its EOF is the script's closing
# stdout, as with a pipe; stdin shares stderr's: a body the script leaves
# unread turns stderr's end into a reset (ECONNRESET), which Kiln reads as EOF.
# With both connections of an id read, the fork-server forks; the child dup2()s
# them onto 0, 1, 2, closes every other fd and runs the script.

import sys
import os
_fresh_modules = frozenset(sys.modules)
_fresh_path = list(sys.path)
_w = sys.dont_write_bytecode
sys.dont_write_bytecode = _w or sys.argv[2:3] != ['rw']
sys.path.insert(0, os.path.dirname(__file__))
try:
    import kiln_loader
    import kiln_forkchild
    import kiln_forkexit
finally:
    del sys.path[0]
    sys.dont_write_bytecode = _w
kiln_forkchild.snapshot(_fresh_modules, _fresh_path, _w)


def _preload(mode, validation, root, modules):
    # Import the modules every child finds loaded; returns notes for Kiln.
    notes = []
    kiln_loader.configure(mode, validation, root)
    before = set(sys.modules)
    for name in modules:
        sys.path.insert(0, root)
        try:
            __import__(name)
        except (Exception, SystemExit) as exc:
            notes.append('preload of %s failed: %s: %s; fix: correct the module or take it off the '
                         'preload list' % (name, type(exc).__name__, exc))
        if root in sys.path:
            sys.path.remove(root)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()      # to the log now: else every child inherits it, and one that writes on flushes it
        except (OSError, ValueError, AttributeError):
            pass
    kiln_forkchild.preloaded(before)
    lines = [b'note %s\n' % n.encode('utf-8', 'replace').replace(b'\n', b' ') for n in notes]
    for name in sorted(set(sys.modules) - before):
        path = getattr(sys.modules[name], '__file__', None)
        if path and '\n' not in path:
            try:
                lines.append(b'loaded %d %s\n' % (os.stat(path).st_mtime_ns, os.fsencode(path)))
            except OSError:
                pass
    if len(os.listdir('/proc/self/task')) > 1:
        lines.append(b'note a preloaded module started a thread, which children do not have; '
                     b'fix: start it on first use, not at import\n')
    return lines


def _main():
    if len(sys.argv) < 5:
        os.write(2, b'usage: kiln_forkserver.py <socket-dir> <mode> <validation> <root> [module...]\n')
        raise SystemExit(2)
    directory, mode, validation, root = sys.argv[1:5]
    try:
        os.setsid()     # not in Kiln's process group: a terminal's ^C is for Kiln to handle
    except OSError:
        pass
    ready = os.dup(1)
    os.dup2(2, 1)       # whatever a preloaded module prints goes to the fork-server's log
    lines = _preload(mode, validation, root, sys.argv[5:])
    kiln_loader.kiln_pyc.settings.report_cold = mode != 'off'     # children name what they read themselves
    sys.path.insert(0, os.path.dirname(__file__))
    try:
        import kiln_forkloop
    finally:
        del sys.path[0]
    server = kiln_forkloop.Server(directory, lines, __file__)
    # What the fork-server holds from now on leaves the collector's generations: its own collections, between
    # forks, then never write to (and so copy) the pages its children share.
    import gc
    gc.collect()
    gc.freeze()
    os.write(ready, b'ready %d\n' % os.getpid())
    os.close(ready)
    return server.serve()


_child = _main()
if _child is None:
    raise SystemExit(0)
try:
    _script = kiln_forkchild.become(*_child)
except BaseException as _exc:   # before any script code: Kiln logs this line
    os.write(2, ('kiln_forkserver: cannot start the script: %s\n' % (_exc,)).encode('utf-8', 'replace'))
    os._exit(127)
del _child
_script()
kiln_forkchild.returned()
