# Kiln's Python side: a shared bytecode cache for CGI scripts.
#
# Started by kiln_boot.py as
#
#     python kiln_boot.py <mode> <validation> <scripts-root> <script> [cgi args...]
#
# mode        rw   read and write bytecode under sys.pycache_prefix
#             ro   read bytecode from the prefix only; compile misses in memory
#             off  leave the import system alone; run the script compiled in memory
# validation  timestamp | checked-hash   (kind of pyc Kiln writes)
#
# In rw/ro mode SourceFileLoader.get_code is replaced by one that mirrors
# CPython's SourceLoader.get_code, except that
#
#   * bytecode is looked up under sys.pycache_prefix first and, for sources
#     outside the scripts root only, in the source's own __pycache__ (read-only:
#     the bytecode shipped with the standard library and dist-packages);
#   * a miss in rw mode is compiled by one process at a time (flock on the
#     pyc's folder) and written atomically (mode 0o600, folders 0o700) under the
#     prefix only; sys.dont_write_bytecode set at run time is ignored, the -B
#     flag (sys.flags.dont_write_bytecode) is honoured;
#   * OSErrors under the prefix are reported on fd 2 as
#       \x1ekiln:cache-error op=<mkdir|read|write|lock> errno=<E...> path=<p> dir=<d>
#     once per (op, errno, dir) per process;
#   * per-process counters are reported at exit as
#       \x1ekiln:stats compiled=<n> cached=<n> shipped=<n> compile_us=<n>
#
# The hot path (warm cache) imports nothing that CPython has not loaded at
# start-up. kiln_precompile.py reuses configure() and ensure().
#

import sys
import os
import _imp
import _frozen_importlib as _bootstrap
import _frozen_importlib_external as _external

_SourceFileLoader = _external.SourceFileLoader
_cache_from_source = _external.cache_from_source
_classify_pyc = _external._classify_pyc
_validate_timestamp_pyc = _external._validate_timestamp_pyc
_validate_hash_pyc = _external._validate_hash_pyc
_compile_bytecode = _external._compile_bytecode
_code_to_timestamp_pyc = _external._code_to_timestamp_pyc
_code_to_hash_pyc = _external._code_to_hash_pyc
_RAW_MAGIC_NUMBER = _external._RAW_MAGIC_NUMBER
_IMPORTLIB_FILES = (_bootstrap._find_and_load.__code__.co_filename,
                    _external.SourceLoader.get_code.__code__.co_filename)

_O_DIRECTORY = getattr(os, 'O_DIRECTORY', 0)

# Configuration (set by configure()).
_mode = 'off'          # 'rw' | 'ro' | 'off'
_hash_based = False    # write checked hash-based pycs
_roots = ()            # scripts root as given (no trailing '/')
_real_roots = None     # lazily: roots + their realpath
_orig_get_code = _SourceFileLoader.get_code

# Counters: compiled, cached, shipped, compile time in ns.
_stats = [0, 0, 0, 0]
_reported = set()
_held = {}             # pyc folder -> id of the thread holding its flock
_stats_pid = None

_MAIN_KEYS = ('__name__', '__doc__', '__package__', '__loader__', '__spec__',
              '__annotations__', '__builtins__', '__file__', '__cached__')


# --------------------------------------------------------------------------
# reporting

def _existing(path, include_self):
    # Deepest existing path among `path` (if include_self) and its ancestors.
    p = path if include_self else os.path.dirname(path)
    while True:
        try:
            os.lstat(p)
            return p
        except OSError:
            parent = os.path.dirname(p)
            if not parent or parent == p:
                return p
            p = parent


def _report(op, exc, path):
    # Report an OSError met under the cache prefix (once per op/errno/dir).
    if _mode != 'rw' and not (op == 'read' and exc.errno in (1, 13)):
        # ro: nothing is written, so nothing to report per request -- except
        # bytecode this user may not read (EPERM, EACCES): that would silently
        # mean compiling on every request (Kiln logs it once)
        return
    import errno
    code = exc.errno
    name = errno.errorcode.get(code, 'E%s' % (code,))
    where = _existing(path, op in ('mkdir', 'lock'))
    key = (op, name, where)
    if key in _reported:
        return
    _reported.add(key)
    line = '\x1ekiln:cache-error op=%s errno=%s path=%s dir=%s' % (op, name, path, where)
    line = line.replace('\n', '?').replace('\r', '?') + '\n'
    try:
        os.write(2, os.fsencode(line))
    except (OSError, UnicodeError):
        pass


def _emit_stats():
    if os.getpid() != _stats_pid:
        return          # a forked child exiting normally: not our request
    line = '\x1ekiln:stats compiled=%d cached=%d shipped=%d compile_us=%d\n' % (
        _stats[0], _stats[1], _stats[2], _stats[3] // 1000)
    try:
        os.write(2, line.encode('ascii'))
    except OSError:
        pass


# --------------------------------------------------------------------------
# reading and validating pycs (mirrors SourceLoader.get_code)

def _under_root(path):
    global _real_roots
    if not _roots:
        return False
    if _real_roots is None:
        rr = list(_roots)
        for r in _roots:
            real = os.path.realpath(r or '/').rstrip('/')
            if real not in rr:
                rr.append(real)
        _real_roots = tuple(rr)
    if not path.startswith('/'):
        path = os.path.join(os.getcwd(), path)
    for r in _real_roots:
        if path == r or path.startswith(r + '/'):
            return True
    return False


def _read_pyc(loader, path, in_prefix):
    # The pyc's bytes, or None. A missing pyc is a plain miss; any other
    # OSError under the prefix is reported.
    try:
        return loader.get_data(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if in_prefix:
            _report('read', exc, path)
        return None


def _valid_code(loader, fullname, data, pyc_path, source_path, mtime, size, src):
    # Code object from `data` if it is valid for the source, else None.
    # `src` is a one-item list caching the source bytes if they get read.
    exc_details = {'name': fullname, 'path': pyc_path}
    try:
        flags = _classify_pyc(data, fullname, exc_details)
        if flags & 0b1:
            check_source = flags & 0b10 != 0
            if (_imp.check_hash_based_pycs != 'never' and
                    (check_source or _imp.check_hash_based_pycs == 'always')):
                if src[0] is None:
                    src[0] = loader.get_data(source_path)
                source_hash = _imp.source_hash(_RAW_MAGIC_NUMBER, src[0])
                _validate_hash_pyc(data, source_hash, fullname, exc_details)
        else:
            _validate_timestamp_pyc(data, mtime, size, fullname, exc_details)
    except (ImportError, EOFError):
        return None
    try:
        return _compile_bytecode(memoryview(data)[16:], name=fullname,
                                 bytecode_path=pyc_path, source_path=source_path)
    except (ImportError, EOFError, ValueError, TypeError):
        # A corrupt pyc (CPython would raise): treat it as a miss.
        return None


def _compile(loader, source_bytes, source_path):
    import time
    t0 = time.perf_counter_ns()
    try:
        code = loader.source_to_code(source_bytes, source_path)
    finally:
        _stats[3] += time.perf_counter_ns() - t0
    _stats[0] += 1
    return code


# --------------------------------------------------------------------------
# writing pycs under the prefix

def _makedirs(path):
    # mkdir -p with mode 0o700; reports and returns False on failure.
    missing = []
    p = path
    while True:
        try:
            os.mkdir(p, 0o700)
            break
        except FileNotFoundError as exc:
            parent = os.path.dirname(p)
            if not parent or parent == p:
                _report('mkdir', exc, p)
                return False
            missing.append(p)
            p = parent
        except FileExistsError as exc:
            if os.path.isdir(p):
                break           # created meanwhile by another process
            _report('mkdir', exc, p)
            return False
        except OSError as exc:
            _report('mkdir', exc, p)
            return False
    for p in reversed(missing):
        try:
            os.mkdir(p, 0o700)
        except FileExistsError as exc:
            if not os.path.isdir(p):
                _report('mkdir', exc, p)
                return False
        except OSError as exc:
            _report('mkdir', exc, p)
            return False
    return True


def _lock_dir(path):
    # (fd holding an exclusive flock on folder `path` or None, folder exists).
    # A folder this thread already holds (compile() importing a codec whose
    # pyc is missing in the same folder) is not locked again: that would wait
    # for ourselves. flock locks are per open file, so other threads wait.
    import _thread
    if _held.get(path) == _thread.get_ident():
        return None, True
    try:
        fd = os.open(path, os.O_RDONLY | _O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        if not _makedirs(path):
            return None, False
        try:
            fd = os.open(path, os.O_RDONLY | _O_DIRECTORY)
        except OSError as exc:
            _report('lock', exc, path)
            return None, True
    except OSError as exc:
        _report('lock', exc, path)
        return None, True
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as exc:
        os.close(fd)
        _report('lock', exc, path)
        return None, True
    _held[path] = _thread.get_ident()
    return fd, True


def _write_atomic(path, data):
    # Write `data` to `path` via a temporary file + os.replace (mode 0o600).
    tmp = '%s.%d.tmp' % (path, os.getpid())
    flags = os.O_EXCL | os.O_CREAT | os.O_WRONLY
    try:
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileExistsError:
            os.unlink(tmp)      # left over by a dead process with our pid
            fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        _report('write', exc, path)
        return False
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        _report('write', exc, path)
        return False
    return True


def _compile_and_store(loader, fullname, source_path, pyc_path, mtime, size, src):
    # Single flight: lock the pyc's folder, re-check, else compile and write.
    pyc_dir = os.path.dirname(pyc_path)
    fd, dir_ok = _lock_dir(pyc_dir)
    try:
        if fd is not None:
            data = _read_pyc(loader, pyc_path, True)
            if data is not None:
                code = _valid_code(loader, fullname, data, pyc_path, source_path,
                                   mtime, size, src)
                if code is not None:
                    _stats[1] += 1      # written by another process meanwhile
                    return code, 'cached'
        if src[0] is None:
            src[0] = loader.get_data(source_path)
        source_bytes = src[0]
        code = _compile(loader, source_bytes, source_path)
        if not dir_ok:
            return code, 'unwritten'
        if _hash_based:
            data = _code_to_hash_pyc(code, _imp.source_hash(_RAW_MAGIC_NUMBER, source_bytes), True)
        else:
            data = _code_to_timestamp_pyc(code, mtime, len(source_bytes))
        return code, ('compiled' if _write_atomic(pyc_path, data) else 'unwritten')
    finally:
        if fd is not None:
            del _held[pyc_dir]
            os.close(fd)        # releases the flock


# --------------------------------------------------------------------------
# the loader

def _load(loader, fullname, source_path):
    # (code, status) for a source file; status is 'cached', 'shipped',
    # 'compiled' (and written) or 'unwritten' (compiled in memory only).
    src = [None]
    try:
        if fullname == '__main__' and not source_path.endswith('.py'):
            # An entry script such as report.cgi or index: CPython would name
            # its pyc like that of the module report.py / index.py next to it.
            pyc_path = _cache_from_source(source_path + '.__main__.py')
        else:
            pyc_path = _cache_from_source(source_path)
    except NotImplementedError:
        pyc_path = None
    if pyc_path is not None:
        try:
            st = loader.path_stats(source_path)
        except OSError:
            st = None
        if st is not None:
            mtime = int(st['mtime'])
            size = st['size']
            # Outside the scripts folder (the standard library, dist-packages) the
            # interpreter's own shipped bytecode comes first: it is almost always
            # there, so the prefix is only looked at when it is not.
            candidates = ((pyc_path, True, 1, 'cached'),)
            if not _under_root(source_path):
                shipped = os.path.join(os.path.dirname(source_path), '__pycache__',
                                       os.path.basename(pyc_path))
                candidates = ((shipped, False, 2, 'shipped'),) + candidates
            for path, in_prefix, counter, status in candidates:
                data = _read_pyc(loader, path, in_prefix)
                if data is not None:
                    code = _valid_code(loader, fullname, data, path, source_path,
                                       mtime, size, src)
                    if code is not None:
                        _stats[counter] += 1
                        return code, status
            if _mode == 'rw' and not sys.flags.dont_write_bytecode:
                return _compile_and_store(loader, fullname, source_path, pyc_path,
                                          mtime, size, src)
    if src[0] is None:
        src[0] = loader.get_data(source_path)
    return _compile(loader, src[0], source_path), 'unwritten'


def _get_code(self, fullname):
    # SourceFileLoader.get_code, Kiln edition (see the header of this file).
    return _load(self, fullname, self.get_filename(fullname))[0]


# These functions run between importlib's own frames. Give them importlib's
# file name so that CPython's import machinery trims them from tracebacks
# exactly as it trims its own frames (e.g. for a SyntaxError in a module):
# a script cannot tell Kiln's loader from CPython's.
_TRIMMED_CODES = set()
for _f in (_get_code, _load, _compile_and_store, _compile, _valid_code,
           _read_pyc, _lock_dir, _makedirs, _write_atomic, _under_root):
    _imp._fix_co_filename(_f.__code__, _IMPORTLIB_FILES[1])
    _TRIMMED_CODES.add(_f.__code__)
del _f


def configure(mode, validation, scripts_root):
    # Set the mode and install Kiln's get_code (rw/ro). Returns the mode in
    # force: rw/ro fall back to off when there is no pycache prefix.
    global _mode, _hash_based, _roots, _real_roots
    if mode not in ('rw', 'ro', 'off'):
        raise ValueError('mode must be rw, ro or off, not %r' % (mode,))
    if validation not in ('timestamp', 'checked-hash'):
        raise ValueError('validation must be timestamp or checked-hash, not %r' % (validation,))
    if mode != 'off' and sys.pycache_prefix is None:
        # -E/-I in the shebang: the interpreter ignored PYTHONPYCACHEPREFIX.
        prefix = os.environ.get('PYTHONPYCACHEPREFIX')
        if prefix:
            sys.pycache_prefix = os.path.abspath(prefix)
        else:
            mode = 'off'
    _mode = mode
    _hash_based = validation == 'checked-hash'
    # No trailing '/' ('/' becomes '', under which every path lies).
    _roots = (scripts_root.rstrip('/'),) if scripts_root else ()
    _real_roots = None
    if mode == 'off':
        # Plain CPython with dont_write_bytecode: never a __pycache__ in the
        # scripts folder, even if the shebang's -E/-I hid PYTHONDONTWRITEBYTECODE.
        sys.dont_write_bytecode = True
        _SourceFileLoader.get_code = _orig_get_code
    else:
        _SourceFileLoader.get_code = _get_code
    return mode


def ensure(fullname, source_path):
    # Make sure `source_path` has valid bytecode (precompile). Returns the
    # status of _load(); compile errors (SyntaxError...) propagate.
    return _load(_SourceFileLoader(fullname, source_path), fullname, source_path)[1]


def main_path(script):
    # The script path as CPython would use it for __file__/co_filename.
    if sys.version_info >= (3, 9) and not script.startswith('/'):
        return os.path.join(os.getcwd(), script)
    return script


# --------------------------------------------------------------------------
# running the entry script as __main__

_KILN_FILES = set()     # file names of kiln_boot.py / kiln_loader.py code


def _trim(tb):
    # Drop the bootstrap's frames (and the importlib frames around them).
    kiln_files = _KILN_FILES
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    kept = []
    i = 0
    n = len(entries)
    while i < n:
        code = entries[i].tb_frame.f_code
        if code.co_filename not in kiln_files and code.co_filename not in _IMPORTLIB_FILES:
            kept.append(entries[i])
            i += 1
            continue
        j = i
        has_kiln = False
        while j < n:
            c = entries[j].tb_frame.f_code
            if c.co_filename in kiln_files or c in _TRIMMED_CODES:
                has_kiln = True
            elif c.co_filename not in _IMPORTLIB_FILES:
                break
            j += 1
        if not has_kiln:
            kept.extend(entries[i:j])
        i = j
    for a, b in zip(kept, kept[1:]):
        a.tb_next = b
    if kept:
        kept[-1].tb_next = None
        return kept[0]
    return None


def _install_trimming_hook():
    hook = getattr(sys, 'excepthook', None)
    if hook is None:
        return

    def excepthook(etype, value, tb):
        sys.excepthook = hook           # nothing of Kiln stays behind
        tb = _trim(tb)
        if isinstance(value, BaseException):
            value.__traceback__ = tb
        if getattr(sys, 'last_traceback', None) is not None:
            sys.last_traceback = tb
        return hook(etype, value, tb)

    sys.excepthook = excepthook


def _usage():
    os.write(2, b'usage: kiln_boot.py <rw|ro|off> <timestamp|checked-hash> '
                b'<scripts-root> <script> [args...]\n')
    raise SystemExit(2)


def main():
    global _stats_pid
    argv = sys.argv
    if len(argv) < 5:
        _usage()
    boot_file, mode, validation, root, script = argv[:5]
    try:
        mode = configure(mode, validation, root)
    except ValueError as exc:
        os.write(2, ('kiln_boot.py: %s\n' % (exc,)).encode('utf-8', 'replace'))
        raise SystemExit(2)

    main_mod = sys.modules['__main__']
    g = main_mod.__dict__
    _KILN_FILES.add(main.__code__.co_filename)
    _KILN_FILES.add(g.get('__file__') or boot_file)
    _KILN_FILES.add(boot_file)

    # argv, orig_argv and sys.path[0] as `python script.py args` has them.
    if hasattr(sys, 'orig_argv'):
        orig = sys.orig_argv
        if len(orig) >= len(argv):
            sys.orig_argv = orig[:len(orig) - len(argv)] + argv[4:]
    del argv[:4]
    flags = sys.flags
    if not (flags.isolated or getattr(flags, 'safe_path', False)):
        script_dir = os.path.dirname(os.path.realpath(script))
        if sys.path:
            sys.path[0] = script_dir
        else:
            sys.path.append(script_dir)
    sys.modules.pop(__name__, None)
    sys.path_importer_cache.pop(os.path.dirname(main.__code__.co_filename), None)

    import atexit
    _stats_pid = os.getpid()
    atexit.register(_emit_stats)

    path = main_path(script)
    loader = _SourceFileLoader('__main__', path)
    try:
        if mode == 'off':
            code = _compile(loader, loader.get_data(path), path)
        else:
            code = loader.get_code('__main__')
    except OSError as exc:
        if exc.filename is None or os.fspath(exc.filename) != path:
            _install_trimming_hook()
            raise
        # The script itself cannot be read: CPython's own message and status.
        prog = getattr(sys, 'orig_argv', None) or [sys.executable or 'python3']
        os.write(2, ("%s: can't open file %r: [Errno %d] %s\n" % (
            prog[0], path, exc.errno, exc.strerror)).encode('utf-8', 'surrogateescape'))
        raise SystemExit(2)
    except BaseException:
        _install_trimming_hook()        # e.g. SyntaxError in the script itself
        raise

    # Rebuild __main__'s globals exactly as CPython made them for this file,
    # keeping CPython's key order and dropping whatever kiln_boot defined.
    values = {'__name__': '__main__', '__doc__': None, '__package__': None,
              '__loader__': loader, '__spec__': None, '__annotations__': {},
              '__file__': path, '__cached__': None}
    keys = [k for k in g if k in _MAIN_KEYS]
    builtins = g.get('__builtins__')
    g.clear()
    for k in keys:
        g[k] = values[k] if k != '__builtins__' else builtins
    sys.modules['__main__'] = main_mod

    try:
        exec(code, g)
    except SystemExit:
        raise
    except BaseException:
        _install_trimming_hook()
        raise
