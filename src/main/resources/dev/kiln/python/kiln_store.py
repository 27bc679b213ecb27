"""Compiling a miss into Kiln's bytecode cache, and reporting what fails: the
cold half of kiln_pyc, which loads this module at the first pyc to write or
error to report (a warm cache never needs it: see kiln_pyc.store()).

CPython writes bytecode with SourceFileLoader.set_data and
_bootstrap_external._write_atomic, ignoring every error; Kiln writes under the
prefix only, one process at a time per folder (lock_dir), with modes
0o600/0o700 (0o640/0o750 in a cache its script group may read), and reports what fails as kiln_protocol's cache-error line.
"""

import os

# Set by kiln_pyc.store() once this module has run: by then Kiln's modules are
# out of sys.modules, so this one cannot import them.
kiln_protocol = kiln_pyc = None

reported = set()            # (op, errno name, folder) already reported
_held = {}                  # pyc folder -> id of the thread holding its flock
_O_DIRECTORY = getattr(os, 'O_DIRECTORY', 0)
_modes = []                 # (file, folder) modes, from the prefix once


def _shared_modes():
    """(file mode, folder mode): 0o640/0o750 when the prefix is set-group-ID
    and lets its group read (Kiln's 2750: scripts run as another user, in the
    cache's group), else 0o600/0o700. Applied with chmod, whatever the umask."""
    if not _modes:
        import sys
        try:
            shared = os.stat(sys.pycache_prefix).st_mode & 0o2050 == 0o2050
        except (OSError, TypeError):
            shared = False
        _modes.extend((0o640, 0o750) if shared else (0o600, 0o700))
    return _modes


def _existing(path, include_self):
    """The deepest existing path among `path` (if include_self) and its parents:
    the folder a report names, where its fix lies."""
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


def report(op, exc, path):
    """Writes the cache-error line for OSError `exc` met under the prefix, once
    per (op, errno, folder); kiln_pyc.report() says which are worth it.
    CPython ignores such errors (bytecode is optional); Kiln logs them with
    their fix."""
    import errno
    name = errno.errorcode.get(exc.errno, 'E%s' % (exc.errno,))
    where = _existing(path, op in ('mkdir', 'lock'))
    key = (op, name, where)
    if key in reported:
        return
    reported.add(key)
    try:
        os.write(2, os.fsencode(kiln_protocol.cache_error_line(op, name, path, where)))
    except (OSError, UnicodeError):
        pass


def conform(pycs, prefix):
    """chmod `pycs` and their folders up to `prefix` to Kiln's modes
    (_shared_modes), keeping a folder's set-group-ID bit; what this user does
    not own stays as it is (and is not loaded, see kiln_pyc._read_pyc)."""
    file_mode, dir_mode = _shared_modes()
    for pyc in pycs:
        try:
            os.chmod(pyc, file_mode)
            folder = os.path.dirname(pyc)
            while folder.startswith(prefix + '/'):
                st = os.stat(folder)
                if st.st_mode & 0o7777 != (st.st_mode & 0o2000) | dir_mode:
                    os.chmod(folder, (st.st_mode & 0o2000) | dir_mode)
                folder = os.path.dirname(folder)
        except OSError:
            pass


def _mkdir(path, mode):
    """mkdir with `mode` whatever the umask; in a set-group-ID cache folder the
    new folder keeps its group and that bit (the kernel does it: no chmod,
    which could clear the bit)."""
    os.mkdir(path, mode)
    st = os.stat(path)
    if st.st_mode & mode != mode:
        os.chmod(path, (st.st_mode & 0o7000) | mode)


def _makedirs(path):
    """mkdir -p with mode 0o700 (0o750 in a shared cache); reports and returns False on failure.

    Mirrors SourceFileLoader.set_data's loop over missing parents, which uses
    mode 0o777 and gives up silently.
    """
    missing = []
    p = path
    mode = _shared_modes()[1]
    while True:
        try:
            _mkdir(p, mode)
            break
        except FileNotFoundError as exc:
            parent = os.path.dirname(p)
            if not parent or parent == p:
                report('mkdir', exc, p)
                return False
            missing.append(p)
            p = parent
        except FileExistsError as exc:
            if os.path.isdir(p):
                break           # created meanwhile by another process
            report('mkdir', exc, p)
            return False
        except OSError as exc:
            report('mkdir', exc, p)
            return False
    for p in reversed(missing):
        try:
            _mkdir(p, mode)
        except FileExistsError as exc:
            if not os.path.isdir(p):
                report('mkdir', exc, p)
                return False
        except OSError as exc:
            report('mkdir', exc, p)
            return False
    return True


def lock_dir(path):
    """(fd holding an exclusive flock on folder `path` or None, folder exists);
    missing folders are made. Release with unlock_dir().

    No CPython counterpart: CPython lets concurrent processes all compile. A
    folder this thread already holds (compile() importing a codec whose pyc is
    missing in the same folder) is not locked again: that would wait for
    ourselves. flock locks are per open file, so other threads wait.
    """
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
            report('lock', exc, path)
            return None, True
    except OSError as exc:
        report('lock', exc, path)
        return None, True
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as exc:
        os.close(fd)
        report('lock', exc, path)
        return None, True
    _held[path] = _thread.get_ident()
    return fd, True


def unlock_dir(path, fd):
    """Releases the flock lock_dir() took on folder `path` (fd None: none taken)."""
    if fd is not None:
        del _held[path]
        os.close(fd)


def write_atomic(path, data):
    """Writes `data` to `path` through a temporary file and os.replace (0o600);
    False (reported) on failure.

    Mirrors _bootstrap_external._write_atomic, but names the temporary file by
    pid (a dead process's leftover is replaced) and reports what fails.
    """
    tmp = '%s.%d.tmp' % (path, os.getpid())
    flags = os.O_EXCL | os.O_CREAT | os.O_WRONLY
    try:
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileExistsError:
            os.unlink(tmp)      # left over by a dead process with our pid
            fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        report('write', exc, path)
        return False
    try:
        try:
            os.fchmod(fd, _shared_modes()[0])
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
        report('write', exc, path)
        return False
    return True


# A timestamp pyc keeps whole seconds and the size: a second edit of the same
# size within the same second would find the first one's pyc valid, forever
# (CPython has this hole too). A source modified this recently gets a checked
# hash-based pyc (PEP 552) instead, validated by content.
_FRESH_SECONDS = 3


def _just_modified(source):
    import time         # built in: no file is read
    return time.time() - source.exact_mtime < _FRESH_SECONDS


def compile_and_store(source, pyc_path):
    """(code, status) for a miss in rw mode: get_code's compile-and-cache tail.

    Single flight, unlike CPython: under the pyc folder's lock the pyc is read
    again (another process may have written it meanwhile), else compiled and
    written. Kiln's validation setting, not a stale pyc, picks the pyc kind.
    """
    import _imp         # built in: no file is read
    pyc_dir = os.path.dirname(pyc_path)
    fd, dir_ok = lock_dir(pyc_dir)
    try:
        code = None if fd is None else kiln_pyc._valid_code(source, pyc_path, True)
        if code is not None:
            kiln_pyc.stats.cached += 1
            return code, 'cached'
        data = kiln_pyc._source_bytes(source)
        code = kiln_pyc.compile_source(source.loader, data, source.path)
        if not dir_ok:
            return code, 'unwritten'
        if not _script_user_may_read(source.path):
            return code, 'private'
        if kiln_pyc.settings.hash_based or _just_modified(source):
            pyc = kiln_pyc._code_to_hash_pyc(code, _imp.source_hash(kiln_pyc._RAW_MAGIC_NUMBER, data), True)
        else:
            pyc = kiln_pyc._code_to_timestamp_pyc(code, source.mtime, len(data))
        return code, ('compiled' if write_atomic(pyc_path, pyc) else 'unwritten')
    finally:
        unlock_dir(pyc_dir, fd)


def _script_user_may_read(path):
    """Whether the script user (KILN_SCRIPT_IDS=uid:gid:groups, set for Kiln's
    own Python processes when scripts run as another user) may read `path`:
    the file and every folder on its way, by their mode bits. Kiln writes a
    readable pyc only for such a source, or the pyc would leak it."""
    ids = kiln_pyc.settings.script_ids
    if ids is None:
        value = os.environ.get('KILN_SCRIPT_IDS', '')
        if not value:
            ids = ()
        else:
            uid, gid, groups = value.split(':')
            ids = (int(uid), frozenset([int(gid)] + [int(g) for g in groups.split(',') if g]))
        kiln_pyc.settings.script_ids = ids
    if not ids:
        return True
    uid, gids = ids

    def allowed(st, bit):
        if st.st_uid == uid:
            return st.st_mode >> 6 & bit
        if st.st_gid in gids:
            return st.st_mode >> 3 & bit
        return st.st_mode & bit
    try:
        real = os.path.realpath(path)
        if not allowed(os.stat(real), 4):
            return False
        folder = os.path.dirname(real)
        while True:
            if not allowed(os.stat(folder), 1):
                return False
            parent = os.path.dirname(folder)
            if parent == folder:
                return True
            folder = parent
    except OSError:
        return False
