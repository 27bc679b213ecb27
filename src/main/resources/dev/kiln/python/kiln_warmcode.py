# A fork server's copy of the code its children read from Kiln's cache.
#
# A child that imports a module the fork server has not preloaded reads its
# pyc from the cache and unmarshals it: for a module of 1,000 lines most of
# what the import costs. The child names each such pyc on its stderr
# (kiln_protocol.cold_line); Kiln hands the names back on CONTROL ("warm
# <pyc> <source>", escaped as in the line), and the fork server reads the pyc
# once and keeps its code in kiln_pyc.warm. Its next children take the code
# from there after the same header check a read pyc gets (kiln_pyc._valid_header):
# a source changed since is a miss, read and named again. Nothing of the module
# runs here: the code is data until a child executes it.
#
# The names come from a script's stderr, which a script can forge, and
# unmarshalling is only safe for trusted bytes. Read are only a regular file
# named as the loader names the pyc of that source, not a symbolic link, and
# at most MAX_BYTES in all: under the cache prefix, owned by the prefix's
# owner and writable by no one else (kiln_pyc._read_pyc's rule); or shipped
# in the __pycache__ next to a source outside the scripts roots (the standard
# library, dist-packages), owned by root or this user and writable by no one
# else.

import os
import sys
import marshal
import _imp

import kiln_protocol
import kiln_pyc

MAX_BYTES = 64 << 20
_sizes = {}         # pyc path -> its size, for the bound


def load(pyc_word, source_word):
    # Reads one pyc into kiln_pyc.warm; False when it is not one to trust, does not fit or is not a pyc.
    # What a script forged never stops the fork server.
    try:
        return _load(pyc_word, source_word)
    except Exception:
        return False


def _load(pyc_word, source_word):
    pyc = os.fsdecode(kiln_protocol.unescape(pyc_word))
    source = os.fsdecode(kiln_protocol.unescape(source_word))
    if os.path.normpath(pyc) != pyc:
        return False
    names = (kiln_pyc._pyc_path('module', source), kiln_pyc._pyc_path('__main__', source))
    prefix = sys.pycache_prefix
    key = kiln_pyc.file_key(pyc)
    if key is not None and kiln_pyc.warm.get(pyc, (None, None, None))[2] == key:
        return True         # kept already, from this very file: a name repeated (or forged) costs a stat
    if prefix and pyc.startswith(prefix + '/') and pyc in names:
        data = kiln_pyc._read_pyc(None, pyc, True)
    elif names[0] and not kiln_pyc._under_root(source) and pyc == kiln_pyc.shipped_path(source, names[0]):
        data = _read_shipped(pyc)
    else:
        return False
    if data is None or len(data) <= 16 or key is None or kiln_pyc.file_key(pyc) != key:
        return False        # replaced while read: the next child names it again
    if sum(_sizes.values()) - _sizes.get(pyc, 0) + len(data) > MAX_BYTES:
        return False
    code = marshal.loads(memoryview(data)[16:])
    if type(code) is not type(load.__code__):
        return False
    _imp._fix_co_filename(code, source)
    kiln_pyc.warm[pyc] = (bytes(data[:16]), code, key)
    _sizes[pyc] = len(data)
    return True


def _read_shipped(pyc):
    fd = os.open(pyc, os.O_RDONLY | os.O_NOFOLLOW)
    with open(fd, 'rb') as f:
        st = os.fstat(fd)
        if st.st_uid not in (0, os.getuid()) or st.st_mode & 0o022 or st.st_mode & 0o170000 != 0o100000:
            return None
        return f.read()
