"""Kiln's Python side: runs a CGI script as __main__ the way `python script.py
args` does, with Kiln's shared bytecode cache as the import system's get_code.

kiln_boot.py calls main() (its command line: kiln_protocol). configure() puts
kiln_pyc.load in place of SourceFileLoader.get_code (rw and ro mode) and
run_main() runs the script; a fork server's child calls these two itself.
kiln_precompile.py reuses configure(), ensure() and main_path().

A script cannot tell Kiln from plain CPython: run_main() takes Kiln's modules
out of sys.modules, rebuilds __main__'s globals as CPython makes them, and
Kiln's frames are trimmed from tracebacks. The warm-cache path imports
nothing CPython has not loaded at start-up but atexit (a built-in module).
"""

import sys
import os

import kiln_importlib
import kiln_protocol
import kiln_pyc

_SourceFileLoader = kiln_pyc.SourceFileLoader
_KILN_MODULES = ('kiln_loader', 'kiln_pyc', 'kiln_protocol', 'kiln_importlib')
_MAIN_KEYS = ('__name__', '__doc__', '__package__', '__loader__', '__spec__',
              '__annotations__', '__builtins__', '__file__', '__cached__')
_startup_conformed = False
_stats_pid = None       # the process whose exit writes the stats line


def unsupported():
    """The line saying why this CPython cannot use Kiln's cache, or None."""
    if not kiln_importlib.MISSING:
        return None
    return ("kiln_loader.py: CPython %s has no %s (Kiln's loader knows CPython %s): "
            "scripts run without the bytecode cache; run them with one of those "
            "or a Kiln that knows this one" % (
                sys.version.split()[0], ', '.join(kiln_importlib.MISSING), kiln_importlib.CHECKED_ON))


def configure(mode, validation, roots):
    """Sets the mode and, in rw and ro mode, Kiln's get_code; returns the mode in force.

    roots is the scripts root (a str, '' for none) or a sequence of them. rw
    and ro fall back to off without a pycache prefix and, after one line on
    stderr, when this CPython lacks a private name kiln_pyc borrows. Raises
    ValueError for a mode or validation kiln_protocol does not know. Unlike
    CPython, which reads PYTHONPYCACHEPREFIX at start-up unless -E/-I, Kiln
    takes it from os.environ too: the shebang's -E/-I is the script's, not Kiln's.
    """
    kiln_protocol.check_mode(mode)
    kiln_protocol.check_validation(validation)
    why = unsupported() if mode != 'off' else None
    if why:
        os.write(2, (why + '\n').encode('utf-8', 'replace'))
        mode = 'off'
    if mode != 'off' and sys.pycache_prefix is None:
        prefix = os.environ.get('PYTHONPYCACHEPREFIX')
        if prefix:
            sys.pycache_prefix = os.path.abspath(prefix)
        else:
            mode = 'off'
    settings = kiln_pyc.settings
    settings.mode = mode
    settings.hash_based = validation == 'checked-hash'
    if isinstance(roots, str):
        roots = (roots,)
    # No trailing '/' ('/' becomes '', under which every path lies).
    settings.roots = tuple(root.rstrip('/') for root in roots if root)
    settings.real_roots = None
    if mode == 'off':
        # Plain CPython with dont_write_bytecode: never a __pycache__ in the
        # scripts folder, even if the shebang's -E/-I hid PYTHONDONTWRITEBYTECODE.
        sys.dont_write_bytecode = True
        _SourceFileLoader.get_code = kiln_pyc.CPYTHON_GET_CODE
    else:
        _SourceFileLoader.get_code = _get_code
        if mode == 'rw' and not _startup_conformed:
            _conform_startup_pycs()
    return mode


def _conform_startup_pycs():
    """Gives the pycs CPython wrote at start-up, before Kiln's get_code was in
    place, Kiln's modes: CPython writes the source's mode (0o644) and folders
    0o777 less the umask. A stat per module loaded so far; kiln_store only
    when one needs it. No CPython counterpart."""
    prefix = sys.pycache_prefix + '/'
    odd = []
    for module in list(sys.modules.values()):
        cached = getattr(module, '__cached__', None)
        if isinstance(cached, str) and cached.startswith(prefix):
            try:
                if os.stat(cached).st_mode & 0o037:
                    odd.append(cached)
            except OSError:
                pass
    if odd:
        kiln_pyc.store().conform(odd, sys.pycache_prefix)
    global _startup_conformed
    _startup_conformed = True   # a fork server's children inherit this: their start-up was the server's


def _get_code(self, fullname):
    """SourceFileLoader.get_code in rw and ro mode: kiln_pyc.load's code (see there)."""
    return kiln_pyc.load(self, fullname, self.get_filename(fullname))[0]


kiln_importlib.trim_like_importlib(_get_code)


def ensure(fullname, source_path):
    """Makes sure `source_path` has valid bytecode (the precompiler's step).

    py_compile.compile's counterpart, but through kiln_pyc.load: the same
    lock, validation and reports as a request. Returns load's status; compile
    errors (SyntaxError...) propagate.
    """
    return kiln_pyc.load(_SourceFileLoader(fullname, source_path), fullname, source_path)[1]


def main_path(script):
    """The script's path as CPython makes it for __file__ and co_filename
    (absolute since 3.9, as Modules/main.c's run_filename)."""
    if sys.version_info >= (3, 9) and not script.startswith('/'):
        return os.path.join(os.getcwd(), script)
    return script


def _emit_stats():
    """Writes the stats line at exit (atexit); not in a forked child exiting
    normally. No CPython counterpart: Kiln's log and status page read it."""
    if os.getpid() != _stats_pid:
        return
    stats = kiln_pyc.stats
    line = ''.join(kiln_protocol.cold_line(pyc, source) for pyc, source in stats.cold)
    line += kiln_protocol.stats_line(stats.compiled, stats.cached, stats.shipped,
                                     stats.compile_ns // 1000)
    try:
        os.write(2, line.encode('ascii'))
    except OSError:
        pass


def _set_argv_and_path(script, argv):
    """sys.argv, sys.orig_argv and sys.path[0] as `python script args` has them.

    Mirrors Modules/main.c: sys.path[0] is the script's real folder unless -I
    or -P. The interpreter's own options are what sys.orig_argv has before
    sys.argv (kiln_boot.py's or a fork server's arguments).
    """
    if hasattr(sys, 'orig_argv'):
        orig = sys.orig_argv
        if len(orig) >= len(sys.argv):
            sys.orig_argv = orig[:len(orig) - len(sys.argv)] + list(argv)
    sys.argv[:] = argv
    flags = sys.flags
    if not (flags.isolated or getattr(flags, 'safe_path', False)):
        script_dir = os.path.dirname(os.path.realpath(script))
        if sys.path:
            sys.path[0] = script_dir
        else:
            sys.path.append(script_dir)


def _hide_kiln():
    """Takes Kiln's modules out of sys.modules and its folder out of
    sys.path_importer_cache: the script finds what `python script` has
    (kiln_pyc and this module keep working through their functions' globals)."""
    for name in _KILN_MODULES:
        sys.modules.pop(name, None)
    sys.path_importer_cache.pop(os.path.dirname(main.__code__.co_filename), None)


def _count_this_process():
    """Zeroes the counters; this process (not its forks) writes the stats line at exit."""
    global _stats_pid
    import atexit
    kiln_pyc.reset_stats()
    _stats_pid = os.getpid()
    atexit.register(_emit_stats)


class _Entered(_SourceFileLoader):
    """Reads the entry script by its name in the working folder, which
    kiln_protocol.entered() checked (only reads: __loader__ stays plain)."""

    def get_data(self, path):
        return super().get_data(os.path.basename(path) if path == self.path else path)

    def path_stats(self, path):
        return super().path_stats(os.path.basename(path) if path == self.path else path)


def _main_code(path):
    """(loader, code) for the script; exits with CPython's message and status 2
    when the script itself cannot be read, as Modules/main.c's pymain_run_file.

    Unlike CPython, which never caches the entry file's bytecode, Kiln does in
    rw/ro mode (kiln_pyc gives it a pyc name of its own).
    """
    loader = _SourceFileLoader('__main__', path)
    reader = _Entered('__main__', path) if kiln_protocol.entered(path) else loader
    try:
        if kiln_pyc.settings.mode == 'off':
            code = kiln_pyc.compile_source(reader, reader.get_data(path), path)
        else:
            code = reader.get_code('__main__')
    except OSError as exc:
        if exc.filename is None or os.fspath(exc.filename) not in (path, os.path.basename(path)):
            kiln_importlib.install_trimming_hook()
            raise
        prog = getattr(sys, 'orig_argv', None) or [sys.executable or 'python3']
        os.write(2, ("%s: can't open file %r: [Errno %d] %s\n" % (
            prog[0], path, exc.errno, exc.strerror)).encode('utf-8', 'surrogateescape'))
        raise SystemExit(2)
    except BaseException:
        kiln_importlib.install_trimming_hook()        # e.g. SyntaxError in the script itself
        raise
    return loader, code


def _reset_main_globals(main_mod, loader, path):
    """__main__'s globals exactly as CPython's _PyRun_SimpleFileObject makes
    them for `path`: its key order, and nothing kiln_boot.py (or a fork
    server) defined."""
    values = {'__name__': '__main__', '__doc__': None, '__package__': None,
              '__loader__': loader, '__spec__': None, '__annotations__': {},
              '__file__': path, '__cached__': None}
    g = main_mod.__dict__
    keys = [k for k in g if k in _MAIN_KEYS]
    builtins = g.get('__builtins__')
    g.clear()
    for k in keys:
        g[k] = values[k] if k != '__builtins__' else builtins
    sys.modules['__main__'] = main_mod


def run_main(script, argv):
    """Runs `script` as __main__ as `python script` would, once configure() is done:
    what main() does, and what a fork server's child calls.

    argv becomes the script's sys.argv (argv[0] is normally `script`). Kiln's
    modules leave sys.modules, the counters restart and this process writes
    the stats line at exit. Returns when the script does; its exceptions,
    SystemExit included, propagate with Kiln's frames trimmed from tracebacks.
    """
    main_mod = sys.modules['__main__']
    kiln_importlib.KILN_FILES.update((main.__code__.co_filename, kiln_protocol.__file__, kiln_pyc.__file__,
                                   kiln_importlib.__file__,
                        main_mod.__dict__.get('__file__') or sys.argv[0], sys.argv[0]))
    _set_argv_and_path(script, argv)
    _hide_kiln()
    _count_this_process()
    path = main_path(script)
    loader, code = _main_code(path)
    _reset_main_globals(main_mod, loader, path)
    try:
        exec(code, main_mod.__dict__)
    except SystemExit:
        raise
    except BaseException:
        kiln_importlib.install_trimming_hook()
        raise


def main():
    """kiln_boot.py's entry: its arguments (kiln_protocol), configure(), run_main().

    A usage error is one line on stderr and exit status 2, as CPython's own.
    """
    try:
        boot = kiln_protocol.parse_boot_args(sys.argv[1:])
        configure(boot.mode, boot.validation, boot.root)
    except ValueError as exc:
        os.write(2, ('%s\n' % (exc,)).encode('utf-8', 'replace'))
        raise SystemExit(2)
    run_main(boot.script, [boot.script] + boot.args)
