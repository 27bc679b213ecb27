"""Reading, validating and compiling bytecode: load() is CPython's
SourceLoader.get_code (Lib/importlib/_bootstrap_external.py), Kiln edition,
each difference named where it is made: the pyc is looked up under the
prefix and, outside the scripts root, first in the source's own __pycache__
(what the stdlib and dist-packages ship); kiln_store writes misses (rw mode).

The private helpers of importlib it borrows are kiln_importlib's.
"""

import sys
import os
import _imp
import _thread
import _io

import kiln_protocol
from kiln_importlib import (MISSING, SourceFileLoader, CPYTHON_GET_CODE, cache_from_source, trim_like_importlib,
                            pyc_path as _pyc_path, shipped_path, _classify_pyc, _validate_timestamp_pyc,
                            _validate_hash_pyc, _compile_bytecode, _code_to_timestamp_pyc, _code_to_hash_pyc,
                            _RAW_MAGIC_NUMBER)

_this = sys.modules[__name__]     # for kiln_store, once Kiln's modules are out of sys.modules

# types.SimpleNamespace, which CPython made for sys.implementation at start-up
# (importing types would add a module to every request).
_Namespace = type(sys.implementation)

# What kiln_loader.configure() decided.
settings = _Namespace(
    mode='off',             # one of kiln_protocol.MODES
    hash_based=False,       # write checked hash-based pycs (else timestamp ones)
    roots=(),               # scripts roots as given, without trailing '/'
    real_roots=None,        # lazily: the roots and their realpaths
    owner=None,             # lazily: the uid that owns the prefix (Kiln's)
    script_ids=None,        # lazily: (uid, gids) of the script user, () when it is this user
    report_cold=False,      # a fork server's child: name each pyc it reads itself (kiln_warmcode.py)
)
_O_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)

# What this process's loads came to: kiln_protocol's stats line at exit.
stats = _Namespace(compiled=0, cached=0, shipped=0, compile_ns=0, cold=[])
# A fork server's code read from the cache for its children: pyc path -> (its 16-byte header, code,
# file_key of the pyc it came from).
warm = {}

_store, _store_lock = None, _thread.allocate_lock()      # kiln_store, once store() loaded it


def reset_stats():
    """Zeroes the counters and forgets the reports: a forked child reports its own request."""
    stats.compiled = stats.cached = stats.shipped = stats.compile_ns = 0
    stats.cold = []
    if _store is not None:
        _store.reported.clear()


def store():
    """kiln_store, loaded at the first pyc to write or error to report.

    Loaded rather than imported: Kiln's modules are out of sys.modules by then,
    and Kiln's get_code would need kiln_store to load kiln_store. CPython's own
    get_code reads its bytecode (and writes it in rw mode, as for kiln_loader).
    """
    global _store
    with _store_lock:
        if _store is None:
            path = os.path.join(os.path.dirname(__file__), 'kiln_store.py')
            loader = SourceFileLoader('kiln_store', path)
            saved = sys.dont_write_bytecode
            sys.dont_write_bytecode = saved or settings.mode != 'rw'
            try:
                code = CPYTHON_GET_CODE(loader, 'kiln_store')
            finally:
                sys.dont_write_bytecode = saved
            module = type(sys)('kiln_store')
            module.__file__, module.__loader__ = path, loader
            exec(code, module.__dict__)
            module.kiln_protocol = kiln_protocol
            if settings.mode == 'rw' and sys.pycache_prefix:
                module.conform([cache_from_source(path)], sys.pycache_prefix)  # CPython's modes, just written
            module.kiln_pyc = _this
            trim_like_importlib(module.report, module._existing, module._makedirs, module.lock_dir,
                                module.unlock_dir, module.write_atomic, module.compile_and_store,
                                module._just_modified, module._script_user_may_read)
            _store = module
    return _store


def report(op, exc, path):
    """Has kiln_store report OSError `exc` met under the prefix, if worth it."""
    import errno
    if settings.mode == 'rw' or (op == 'read' and exc.errno in (errno.EPERM, errno.EACCES)):
        # ro writes nothing, so reports nothing per request -- but bytecode
        # this user may not read: that would silently mean compiling on every
        # request (Kiln logs it once)
        store().report(op, exc, path)


def _source_bytes(source):
    """get_code's `self.get_data(source_path)`, done at most once per load."""
    if source.bytes is None:
        source.bytes = source.loader.get_data(source.path)
    return source.bytes


def _under_root(path):
    """True if `path` lies in a scripts root (as given or through its realpath).

    No CPython counterpart: outside the roots the shipped __pycache__ is read.
    """
    if not settings.roots:
        return False
    if settings.real_roots is None:
        real_roots = list(settings.roots)
        for root in settings.roots:
            real = os.path.realpath(root or '/').rstrip('/')
            if real not in real_roots:
                real_roots.append(real)
        settings.real_roots = tuple(real_roots)
    if not path.startswith('/'):
        path = os.path.join(os.getcwd(), path)
    for root in settings.real_roots:
        if path == root or path.startswith(root + '/'):
            return True
    return False


def _cache_owner():
    """The uid owning the pycache prefix: Kiln's user, which alone writes the cache."""
    if settings.owner is None:
        try:
            settings.owner = os.stat(sys.pycache_prefix).st_uid
        except (OSError, TypeError):
            settings.owner = -1
    return settings.owner


def _read_pyc(source, path, in_prefix):
    """The pyc's bytes or None: get_code's `self.get_data(bytecode_path)`.

    CPython ignores every OSError; Kiln reports those under the prefix other
    than a plain miss. Unlike CPython, a pyc under the prefix is opened once,
    without following a symbolic link, and is a miss unless it is owned by the
    prefix's owner and writable by nobody else: bytecode is code, and only
    Kiln's user writes the cache.
    """
    if not in_prefix:
        try:
            return source.loader.get_data(path)
        except OSError:
            return None
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        report('read', exc, path)
        return None
    with _io.FileIO(fd, 'rb') as f:
        st = os.fstat(fd)
        if st.st_uid != _cache_owner() or st.st_mode & 0o022 or not (st.st_mode & 0o170000 == 0o100000):
            return None
        return f.readall()


def _valid_code(source, pyc_path, in_prefix):
    """The code in pyc `pyc_path` if it exists and is valid for the source, else None.

    Mirrors get_code's validation (_classify_pyc, then the hash or timestamp
    check, then _compile_bytecode). Unlike CPython, a pyc whose body does not
    unmarshal into code is a miss to compile again, not the script's error.
    """
    data = _read_pyc(source, pyc_path, in_prefix)
    if data is None or not _valid_header(data, source, pyc_path):
        return None
    try:
        return _compile_bytecode(memoryview(data)[16:], name=source.fullname,
                                 bytecode_path=pyc_path, source_path=source.path)
    except (ImportError, EOFError, ValueError, TypeError):
        return None


def _valid_header(data, source, pyc_path):
    """Whether the pyc whose first 16 bytes are `data` is valid for the source: get_code's
    _classify_pyc, then its hash or timestamp check."""
    exc_details = {'name': source.fullname, 'path': pyc_path}
    try:
        flags = _classify_pyc(data, source.fullname, exc_details)
        if flags & 0b1:
            check_source = flags & 0b10 != 0
            if (_imp.check_hash_based_pycs != 'never' and
                    (check_source or _imp.check_hash_based_pycs == 'always')):
                source_hash = _imp.source_hash(_RAW_MAGIC_NUMBER, _source_bytes(source))
                _validate_hash_pyc(data, source_hash, source.fullname, exc_details)
        else:
            _validate_timestamp_pyc(data, source.mtime, source.size, source.fullname,
                                    exc_details)
    except (ImportError, EOFError):
        return False
    return True


def _cached_code(source, pyc_path, in_prefix):
    """The code in a pyc of the cache (in_prefix) or a shipped one: the fork server's own copy
    when it is still valid (no read, no unmarshal), else read from the file, named for the
    fork server to keep (kiln_warmcode.py)."""
    entry = warm.get(pyc_path)
    if entry is not None and _valid_header(entry[0], source, pyc_path) and file_key(pyc_path) == entry[2]:
        return entry[1]
    code = _valid_code(source, pyc_path, in_prefix)
    if code is not None:
        _name_cold(pyc_path, source)
    return code


def file_key(path):
    """What tells one file from its replacement: a kept code is used only while its pyc is
    still there, unchanged (so a cache emptied, pruned or rewritten is noticed as a read would)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _name_cold(pyc_path, source):
    if settings.report_cold and len(stats.cold) < 1000:
        stats.cold.append((pyc_path, source.path))


def compile_source(loader, data, path):
    """get_code's `self.source_to_code(source_bytes, source_path)`, timed and
    counted in the stats."""
    import time
    t0 = time.perf_counter_ns()
    try:
        code = loader.source_to_code(data, path)
    finally:
        stats.compile_ns += time.perf_counter_ns() - t0
    stats.compiled += 1
    return code


def load(loader, fullname, source_path):
    """(code, status) for a source file: SourceLoader.get_code, Kiln edition.

    status is 'cached', 'shipped', 'compiled' (and written), 'unwritten'
    (compiled in memory only) or 'private' (in memory: the script user may not
    read the source, so its bytecode is not written where that user reads). Compile errors (SyntaxError...) propagate.
    """
    pyc_path = _pyc_path(fullname, source_path)
    st = None
    if pyc_path is not None:
        try:
            st = loader.path_stats(source_path)
        except OSError:
            pass
    if st is None:
        return compile_source(loader, loader.get_data(source_path), source_path), 'unwritten'
    # What get_code keeps in locals; the source's bytes are read once, if needed.
    source = _Namespace(loader=loader, fullname=fullname, path=source_path,
                        mtime=int(st['mtime']), exact_mtime=st['mtime'], size=st['size'], bytes=None)
    if not _under_root(source_path):
        # The standard library, dist-packages: their shipped bytecode is almost
        # always there, so the prefix is only looked at when it is not.
        code = _cached_code(source, shipped_path(source_path, pyc_path), False)
        if code is not None:
            stats.shipped += 1
            return code, 'shipped'
    code = _cached_code(source, pyc_path, True)
    if code is not None:
        stats.cached += 1
        return code, 'cached'
    if settings.mode == 'rw' and not sys.flags.dont_write_bytecode:
        code, status = store().compile_and_store(source, pyc_path)
        if status in ('compiled', 'cached'):     # a pyc in the cache now
            _name_cold(pyc_path, source)
        return code, status
    return compile_source(loader, _source_bytes(source), source_path), 'unwritten'


trim_like_importlib(load, _pyc_path, compile_source, _valid_code, _read_pyc, _under_root,
                    _source_bytes, store, report, _cache_owner)
