# The other half of kiln_forkserver.py: what a forked child does, between
# os.fork() and the first line of the script, to be what
#
#     python [flags] kiln_boot.py <mode> <validation> <root> <script> [args...]
#
# would be if Kiln had started it with the request's environment and working
# folder. The fork-server calls snapshot() first thing, while its interpreter
# is still exactly a fresh one, and preloaded() after its preload imports; a
# child calls become(). Only modules a fresh interpreter has already loaded
# are imported here at import time (sys, os, _io, _signal, _weakref), and
# Kiln's kiln_confine.
# _script_entry() is the one place that knows how kiln_loader runs a script.
#
# What a child cannot get back (see also ForkServer.java):
#   * the str/bytes hash seed and the memory layout (ASLR) are those of the
#     fork-server, shared by all its children;
#   * startup-time variables (STARTUP_VARS: PYTHONHASHSEED, PYTHONUTF8,
#     PYTHONDONTWRITEBYTECODE..., the locale variables) must equal the
#     fork-server's: the fork-server refuses requests where they differ;
#   * the preloaded modules are in sys.modules already, were imported with
#     the fork-server's environment, and their import-time warnings went to
#     the fork-server's log;
#   * what it inherited is frozen (gc.freeze(): gc.get_freeze_count() is not
#     0), so cycles among inherited objects are never collected;
#   * getppid() is the fork-server, /proc/self/cmdline is its command line,
#     and stdin/stderr are one socket, stdout another (not pipes);
#   * after an uncaught exception, __main__ keeps __file__ and __cached__
#     while atexit callbacks and finalizers run (CPython drops them; a quick
#     exit does too).

import sys
import os
import _io
import _signal
import _weakref

import kiln_confine

# Read by CPython once at start-up, never again: a child cannot change them.
STARTUP_VARS = tuple(n.encode() for n in (
    'PYTHONHASHSEED PYTHONOPTIMIZE PYTHONDONTWRITEBYTECODE PYTHONVERBOSE PYTHONDEBUG '
    'PYTHONINSPECT PYTHONUNBUFFERED PYTHONNOUSERSITE PYTHONUSERBASE PYTHONHOME '
    'PYTHONPLATLIBDIR PYTHONWARNINGS PYTHONDEVMODE PYTHONUTF8 PYTHONSAFEPATH '
    'PYTHONINTMAXSTRDIGITS PYTHONFAULTHANDLER PYTHONTRACEMALLOC PYTHONMALLOC '
    'PYTHONMALLOCSTATS PYTHONPYCACHEPREFIX PYTHONEXECUTABLE PYTHONWARNDEFAULTENCODING '
    'PYTHONNODEBUGRANGES PYTHONPROFILEIMPORTTIME PYTHONCOERCECLOCALE').split())
LOCALE_VARS = (b'LC_ALL', b'LC_CTYPE', b'LANG', b'HOME')
# The signals the fork-server handles itself; a child gets back their fresh dispositions.
SERVER_SIGNALS = (_signal.SIGCHLD, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGINT)
# What a fresh interpreter ignores whatever it inherited (Python/pylifecycle.c, signal_install_handlers).
PYTHON_IGNORED = (_signal.SIGPIPE, _signal.SIGXFSZ)

_fresh = {}


def _exec_environ():
    # The environment the interpreter was started with, before locale
    # coercion (PEP 538) added LC_CTYPE to it.
    try:
        with open('/proc/self/environ', 'rb') as f:
            items = f.read().split(b'\0')
    except OSError:
        return dict(os.environb)
    return dict(i.split(b'=', 1) for i in items if b'=' in i)


def _default_dispositions():
    # What Kiln ignores (SIGHUP under nohup, SIGINT as a shell's background job) is not the scripts': every
    # process forked or exec'd from here starts as mod_cgid's do, and SIGINT as a fresh interpreter has it.
    for sig in range(1, 32):
        if sig not in PYTHON_IGNORED and _signal.getsignal(sig) == _signal.SIG_IGN:
            _signal.signal(sig, _signal.default_int_handler if sig == _signal.SIGINT else _signal.SIG_DFL)


def snapshot(modules, path, dont_write):
    # State of the still fresh interpreter, to give back to every child.
    _default_dispositions()
    env = _exec_environ()
    names = LOCALE_VARS if sys.flags.ignore_environment else STARTUP_VARS + LOCALE_VARS
    mask = os.umask(0o22)
    os.umask(mask)
    ctype = os.environb.get(b'LC_CTYPE')
    _fresh.update(
        kept=[],                # what a child drops but must not free, see _set_environ()
        modules=modules, path=path, dont_write=dont_write, prefix=sys.pycache_prefix,
        signals={s: _signal.getsignal(s) for s in SERVER_SIGNALS}, umask=mask,
        startup={n: env.get(n) for n in names},
        coerced=ctype if ctype != env.get(b'LC_CTYPE') else None,
        pythonpath=env.get(b'PYTHONPATH'),
        buffered=not getattr(sys.__stdout__, 'write_through', False),
        interpreter=sys.orig_argv[:len(sys.orig_argv) - len(sys.argv)])


def preloaded(before):
    # After the preload imports: they stay in every child's sys.modules.
    import _locale
    added = set(sys.modules) - before
    for name in ('errno', 'fcntl'):
        # kiln_loader's own, imported when it compiled a preloaded module: not part of the preload
        # unless a preloaded module refers to it too
        if name in added and not any(getattr(sys.modules[m], name, None) is sys.modules[name] for m in added):
            added.discard(name)
    _fresh['modules'] = _fresh['modules'] | added
    _fresh['environ_keys'] = b'\0'.join(os.environb)      # one object: a child reads one page
    _fresh['setlocale'] = _locale.setlocale
    _fresh['LC_CTYPE'] = _locale.LC_CTYPE
    import gc
    gc.collect()
    _fresh['freeze'] = gc.freeze
    _fresh['exit'] = sys.modules['kiln_forkexit']     # children drop it from sys.modules
    _fresh['codeset'] = _locale.nl_langinfo
    _fresh['CODESET'] = _locale.CODESET
    kiln_confine.prepare()
    # What the fork-server's own PYTHONPATH put first on sys.path.
    _fresh['own_pythonpath'] = len(_pythonpath(_fresh['pythonpath'], os.getcwd()))


def startup_mismatch(env):
    # The first start-up variable whose value differs from the fork-server's.
    for name, value in _fresh['startup'].items():
        if env.get(name) != value:
            return name.decode('ascii')
    return None


def _pythonpath(value, cwd):
    # PYTHONPATH entries as CPython's getpath makes them: absolute, normalised.
    if not value or sys.flags.ignore_environment:
        return []
    return [os.path.normpath(os.path.join(cwd, p)) for p in os.fsdecode(value).split(os.pathsep)]


def _sys_path(env, cwd):
    path = _fresh['path']
    value = env.get(b'PYTHONPATH')
    if value == _fresh['pythonpath'] and (not value or all(p[:1] == b'/' for p in value.split(b':'))):
        return list(path)       # same absolute PYTHONPATH: the fork-server's start-up path
    head = path[:1] if not (sys.flags.isolated or sys.flags.safe_path) else []
    rest = path[len(head) + _fresh['own_pythonpath']:]
    entries = _pythonpath(value, cwd) + rest
    if not sys.flags.no_site:
        seen = set()            # site.removeduppaths()
        entries = [p for p in entries if not (p in seen or seen.add(p))]
    return head + entries


def _stdio(fd, write, encoding, errors, name):
    # CPython's create_stdio() (Python/pylifecycle.c), for an fd that is not a tty.
    buffered = _fresh['buffered']
    buf = _io.open(fd, 'wb' if write else 'rb', -1 if buffered or not write else 0, closefd=False)
    raw = buf.raw if buffered or not write else buf
    raw.name = name
    line = buffered and (raw.isatty() or fd == 2)
    stream = _io.TextIOWrapper(buf, encoding, errors, '\n', line, not buffered)
    stream.mode = 'w' if write else 'r'
    return stream


def _set_stdio(env):
    import codecs
    locale = _fresh['setlocale'](_fresh['LC_CTYPE'], None)
    if sys.flags.utf8_mode:
        encoding, errors = 'utf-8', 'surrogateescape'
    else:
        encoding = _fresh['codeset'](_fresh['CODESET']) or 'utf-8'
        errors = 'surrogateescape' if locale in ('C', 'POSIX', 'C.UTF-8', 'C.utf8', 'UTF-8') else 'strict'
    given = env.get(b'PYTHONIOENCODING') if not sys.flags.ignore_environment else None
    if given:
        enc, _, err = os.fsdecode(given).partition(':')
        if enc:
            encoding, errors = enc, 'strict'
        if err:
            errors = err
    encoding = codecs.lookup(encoding).name
    _fresh['kept'].extend((sys.stdin, sys.stdout, sys.stderr))     # the fork-server's, never written to
    sys.stdin = sys.__stdin__ = _stdio(0, False, encoding, errors, '<stdin>')
    sys.stdout = sys.__stdout__ = _stdio(1, True, encoding, errors, '<stdout>')
    sys.stderr = sys.__stderr__ = _stdio(2, True, encoding, 'backslashreplace', '<stderr>')


def _set_environ(env):
    environ = os.environb
    for key in _fresh['environ_keys'].split(b'\0'):
        os.unsetenv(key)        # the C-level environment
    # A new mapping, the old one kept: freeing it would touch (and so copy) every page its entries are on.
    _fresh['kept'].append(environ._data)
    os.environ._data = environ._data = sys.modules['posix'].environ = {}
    for key, value in env.items():
        environ[key] = value
    if _fresh['coerced'] is not None:
        environ[b'LC_CTYPE'] = _fresh['coerced']    # PEP 538, as at start-up
    _fresh['setlocale'](_fresh['LC_CTYPE'], '')
    time = sys.modules.get('time')
    if time is not None:
        time.tzset()


def become(request, env, keep, drop, selector, boot, subreaper):
    # Turn this freshly forked child into the request's `python kiln_boot.py`.
    # keep: (stdin+stderr socket, stdout socket); drop: the fork-server's own
    # sockets; subreaper: makes this process one (kiln_forkloop.py), so the
    # script's orphans stay its children while it runs. Returns the function
    # that runs the script.
    uid, gid, groups, run, cwd, argv = request
    procs, rlimits = env.pop(b'KILN_CGROUP', None), env.pop(b'KILN_RLIMITS', None)
    os.setsid()
    subreaper()
    for sig, handler in _fresh['signals'].items():
        _signal.signal(sig, handler)
    _signal.set_wakeup_fd(-1)
    _signal.pthread_sigmask(_signal.SIG_SETMASK, ())
    io_fd, out_fd = (s.detach() for s in keep)
    selector.close()
    for sock in drop:
        sock.detach()       # closed below, without a close() on a reused fd later
    os.dup2(io_fd, 0)
    os.dup2(out_fd, 1)
    os.dup2(io_fd, 2)
    for fd in (0, 1):
        os.set_blocking(fd, True)
    if run != b'spawn':     # else the fork-server reports it on CONTROL (a spawn it could not do, kiln_forkspawn)
        os.write(1, os.getpid().to_bytes(8, 'big'))     # Kiln reads its pid first: then it runs
    os.closerange(3, 1 << 30)
    if procs is not None:
        kiln_confine.join(procs)
    kiln_confine.drop_privileges(uid, gid, groups)
    kiln_confine.limit(rlimits)
    os.chdir(cwd)
    os.umask(_fresh['umask'])
    if run in (b'exec', b'spawn'):
        _exec(argv, env, cwd)
    keep_modules = _fresh['modules']    # first: what follows may import (a codec for stdio)
    for name in [n for n in sys.modules if n not in keep_modules]:
        if name not in ('__main__', 'kiln_loader'):     # kiln_loader.main() removes itself
            _fresh['kept'].append(sys.modules.pop(name))
    _set_environ(env)
    _set_stdio(env)
    sys.path[:] = _sys_path(env, os.getcwd())
    sys.argv[:] = [boot] + [os.fsdecode(a) for a in argv]
    sys.orig_argv[:] = _fresh['interpreter'] + sys.argv
    sys.dont_write_bytecode = _fresh['dont_write']
    sys.pycache_prefix = _fresh['prefix']
    for finder in sys.path_importer_cache.values():
        if hasattr(finder, 'invalidate_caches'):
            finder.invalidate_caches()      # directory listings of long ago
    if 'linecache' in sys.modules:
        sys.modules['linecache'].cache.clear()
    # Everything inherited leaves the collector's generations: a child's collections and its exit then
    # leave those pages alone, instead of copying the whole heap (gc.get_freeze_count() shows them).
    _fresh['freeze']()
    _fresh_main()           # after the freeze: it must be collectable
    return _script_entry(run == b'quick')


def _exec(argv, env, cwd):
    # A script that is not Python: the child becomes it, as mod_cgid's daemon execs after its fork. What Python
    # ignores at start-up (SIGPIPE, SIGXFSZ) would stay ignored across exec: default again, as for a JVM's child.
    # The script is named in its folder (cwd, a real path): one swapped for a symlink since Kiln checked it
    # leaves another folder here, and nothing runs.
    if os.getcwdb() != cwd:
        os.write(2, b'kiln: %s was moved or replaced while the script started; not run\n' % cwd)
        os._exit(126)
    for sig in PYTHON_IGNORED:
        _signal.signal(sig, _signal.SIG_DFL)
    try:
        os.execve(argv[0], argv, env)
    except OSError as exc:
        os.write(2, b'kiln: cannot run %s: %s\n' % (argv[0], os.strerror(exc.errno).encode()))
    os._exit(127)


def _fresh_main():
    # A __main__ module of the child's own, with the fork-server's keys in CPython's order: kiln_loader.main()
    # fills it. The fork-server's is frozen, never collected, which would change what finalizers see.
    old = sys.modules['__main__']
    main = type(old)('__main__')
    for key, value in old.__dict__.items():
        if key[:2] == key[-2:] == '__' and key not in main.__dict__:
            main.__dict__[key] = value
    sys.modules['__main__'] = main
    _fresh['main'] = _weakref.ref(main)    # not kept alive by Kiln: at exit it goes as CPython's would


def returned():
    # What pymain does once the main module returned (and after printing an uncaught exception), before it
    # finalizes: __main__ loses __file__ and __cached__.
    main = _fresh['main']()
    for key in ('__file__', '__cached__'):
        if main is not None:
            main.__dict__.pop(key, None)


def _script_entry(quick):
    # The loader's entry point; kiln_loader.main() reads sys.argv as set above, and its run_main() zeroes the
    # counters the fork-server's preload left (kiln_pyc.reset_stats) so the child reports only its own request.
    loader = sys.modules['kiln_loader']
    if not quick:
        return loader.main
    exit_ = _fresh['exit']
    loader.kiln_importlib.KILN_FILES.add(exit_.__file__)    # its frame is left out of tracebacks
    exit_.script, exit_.inherited, exit_.returned = loader.main, _fresh['modules'], returned
    return exit_.run
