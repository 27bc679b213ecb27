"""What Kiln's loader takes from importlib, and how it passes for importlib:
the private helpers of CPython's Lib/importlib/_bootstrap_external.py that
kiln_pyc borrows, the pyc names CPython gives sources, and the trimming of
Kiln's frames from tracebacks, as CPython trims importlib's own.

The private helpers were checked on CPython CHECKED_ON. A CPython without one
of them (3.7 lacks sys.pycache_prefix) lists it in MISSING instead of failing
here; kiln_loader then runs scripts without the cache.
"""

import sys
import os
import _imp
import _frozen_importlib as _bootstrap
import _frozen_importlib_external as _external

CHECKED_ON = '3.8, 3.9, 3.10, 3.11, 3.12 and 3.13'
MISSING = []                # 'module.name' of each private name this CPython lacks


def _need(module, name):
    """module.name, or None noted in MISSING when this CPython has no such name."""
    try:
        return getattr(module, name)
    except AttributeError:
        MISSING.append('%s.%s' % (module.__name__, name))
        return None


_classify_pyc = _need(_external, '_classify_pyc')
_validate_timestamp_pyc = _need(_external, '_validate_timestamp_pyc')
_validate_hash_pyc = _need(_external, '_validate_hash_pyc')
_compile_bytecode = _need(_external, '_compile_bytecode')
_code_to_timestamp_pyc = _need(_external, '_code_to_timestamp_pyc')
_code_to_hash_pyc = _need(_external, '_code_to_hash_pyc')
_RAW_MAGIC_NUMBER = _need(_external, '_RAW_MAGIC_NUMBER')
_fix_co_filename = _need(_imp, '_fix_co_filename')
_find_and_load = _need(_bootstrap, '_find_and_load')
_need(sys, 'pycache_prefix')
SourceFileLoader = _external.SourceFileLoader
cache_from_source = _external.cache_from_source
CPYTHON_GET_CODE = _external.SourceLoader.get_code      # Kiln replaces SourceFileLoader's

# The file names of importlib's frames, which CPython trims from tracebacks.
EXTERNAL_FILE = CPYTHON_GET_CODE.__code__.co_filename
IMPORTLIB_FILES = (EXTERNAL_FILE,) + (
    (_find_and_load.__code__.co_filename,) if _find_and_load else ())

KILN_FILES = set()          # file names of Kiln's code, trimmed from tracebacks (kiln_loader.run_main)
TRIMMED_CODES = set()       # code objects given importlib's file name


def trim_like_importlib(*functions):
    """Gives functions importlib's file name, so that CPython trims them from
    tracebacks exactly as it trims its own frames: a script cannot tell Kiln's
    loader from CPython's. Every function the import hook runs goes through here."""
    for f in functions:
        if _fix_co_filename is not None:
            _fix_co_filename(f.__code__, EXTERNAL_FILE)
        TRIMMED_CODES.add(f.__code__)


def trim(tb):
    """The traceback without Kiln's frames and the importlib frames around them.

    Mirrors remove_importlib_frames in CPython's Python/import.c, which trims
    importlib's frames (and so Kiln's get_code, see trim_like_importlib) from
    an import's traceback; this also drops kiln_loader.run_main()'s own frames.
    """
    importlib_files = IMPORTLIB_FILES
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    kept = []
    i = 0
    n = len(entries)
    while i < n:
        code = entries[i].tb_frame.f_code
        if code.co_filename not in KILN_FILES and code.co_filename not in importlib_files:
            kept.append(entries[i])
            i += 1
            continue
        j = i
        has_kiln = False
        while j < n:
            c = entries[j].tb_frame.f_code
            if c.co_filename in KILN_FILES or c in TRIMMED_CODES:
                has_kiln = True
            elif c.co_filename not in importlib_files:
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


def install_trimming_hook():
    """Wraps sys.excepthook once so that the script's traceback is trimmed
    (trim()): CPython needs none, having no frames of its own above the script's."""
    hook = getattr(sys, 'excepthook', None)
    if hook is None:
        return

    def excepthook(etype, value, tb):
        sys.excepthook = hook           # nothing of Kiln stays behind
        tb = trim(tb)
        if isinstance(value, BaseException):
            value.__traceback__ = tb
        if getattr(sys, 'last_traceback', None) is not None:
            sys.last_traceback = tb
        return hook(etype, value, tb)

    sys.excepthook = excepthook


def pyc_path(fullname, source_path):
    """get_code's cache_from_source(), None where CPython has no cache_tag.

    An entry script such as report.cgi or index gets the pyc CPython would give
    a module report.py / index.py next to it with a name of its own.
    """
    try:
        if fullname == '__main__' and not source_path.endswith('.py'):
            return cache_from_source(source_path + '.__main__.py')
        return cache_from_source(source_path)
    except NotImplementedError:
        return None


def shipped_path(source_path, pyc_path):
    """The pyc shipped next to a source: its __pycache__, under the cache's name for it."""
    return os.path.join(os.path.dirname(source_path), '__pycache__', os.path.basename(pyc_path))


trim_like_importlib(pyc_path, shipped_path)
