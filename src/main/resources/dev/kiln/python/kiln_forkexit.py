# Quick exit, for requests that ask for it: a forked child ends as CPython's
# pymain and Py_FinalizeEx would end it, as far as a script can tell, but
# without tearing the inherited interpreter down. That teardown touches every
# object of the fork-server's heap, so it copies every page of it: several ms
# of CPU per request, more than everything else a child does.
#
# In order, as CPython does: the uncaught exception through sys.excepthook
# (sys.last_* set) or SystemExit's code (printed when it is not an int);
# stdout and stderr flushed; non-daemon threads joined; atexit callbacks;
# stdout and stderr flushed (a failure: status 120, as CPython); garbage
# collected; __main__ and the modules the script imported cleared, newest
# first, and collected again, so that what only they held is finalized (files
# flushed and closed, temporary files removed); an unhandled
# KeyboardInterrupt ends the process by SIGINT. Not finalized: objects still
# reachable from preloaded modules or from sys; preloaded modules stay
# importable while the script's objects are finalized. One more Kiln frame is
# on the stack below the script's (tracebacks leave it out, as they leave out
# kiln_loader's).

import sys
import os
import _signal
import _weakref

script = None       # set by kiln_forkchild: kiln_loader.main,
inherited = ()      # the modules the child had before the script ran,
returned = None     # and what pymain does once the main module is done
_MODULE_DICT = type(sys).__dict__['__dict__']
_SYS_DELETES = ('path', 'argv', 'ps1', 'ps2', 'last_type', 'last_value', 'last_traceback', 'path_hooks',
                'path_importer_cache', 'meta_path', '__interactivehook__')


def run():
    # Runs the script and ends the process: never returns.
    uncaught = None
    try:
        script()
        status = 0
    except SystemExit as exc:
        _flush(False)       # flush_io(), before anything is printed
        status = _exit_status(exc)
    except BaseException as exc:
        uncaught = exc      # printed outside this handler: CPython's hook call has no exception context
    else:
        _flush(False)
        returned()
    interrupted = isinstance(uncaught, KeyboardInterrupt)
    if uncaught is not None:
        _flush(False)
        status = _print_uncaught(uncaught)
        uncaught = None
        returned()
    threading = sys.modules.get('threading')
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException as exc:
            _unraisable(threading, exc)
    import atexit
    atexit._run_exitfuncs()
    if not _flush(True):
        status = 120
    import gc
    collect = gc.collect    # gc may be among the modules cleared below
    if gc.isenabled():
        collect()
    _finalize_modules(collect)
    if not _flush(True):
        status = 120
    if interrupted:
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
        os.kill(os.getpid(), _signal.SIGINT)
    os._exit(status & 0xff)


def _exit_status(exc):
    # _Py_HandleSystemExit (Python/pythonrun.c).
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code if -2 ** 63 <= code < 2 ** 63 else -1
    _stderr_write(str(code))
    _stderr_write('\n')
    return 1


def _print_uncaught(exc):
    # _PyErr_PrintEx (Python/pythonrun.c); returns the exit status.
    tb = exc.__traceback__
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    hook = getattr(sys, 'excepthook', None)
    if hook is None:
        _stderr_write('sys.excepthook is missing\n')
        sys.__excepthook__(type(exc), exc, tb)
        return 1
    try:
        hook(type(exc), exc, tb)
    except SystemExit as exit_:
        return _exit_status(exit_)
    except BaseException as failed:
        _stderr_write('Error in sys.excepthook:\n')
        failed.__traceback__ = failed.__traceback__.tb_next      # from the hook down, as CPython has it
        sys.__excepthook__(type(failed), failed, failed.__traceback__)
        _stderr_write('\nOriginal exception was:\n')
        sys.__excepthook__(type(exc), exc, tb)
    return 1


def _flush(report):
    # flush_std_files (Python/pylifecycle.c): False when stdout would not flush.
    ok = True
    for name in ('stdout', 'stderr', '__stdout__', '__stderr__'):
        stream = getattr(sys, name, None)
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except BaseException as exc:
            if name.strip('_') == 'stdout':
                ok = False
                if report:
                    _unraisable(stream, exc)
    return ok


def _finalize_modules(collect):
    # finalize_modules (Python/pylifecycle.c) for what the script brought: its modules out of sys.modules,
    # garbage collected (what became unreachable is finalized with its globals intact), then those still
    # alive cleared, newest first. The inherited ones are left as they are (and importable meanwhile).
    for name in _SYS_DELETES:
        setattr(sys, name, None)
    for name in ('stdin', 'stdout', 'stderr'):
        setattr(sys, name, getattr(sys, '__%s__' % name))
    alive = []
    # By name: the inherited module objects stay untouched (a reference would copy the pages they are on).
    for name in [n for n in sys.modules if n not in inherited or n == '__main__']:
        try:
            alive.append(_weakref.ref(sys.modules[name]))
        except TypeError:
            pass
        sys.modules[name] = None
    module = None
    collect()
    for ref in reversed(alive):
        module = ref()
        if module is not None:
            _clear(_namespace(module))
    module = None
    collect()


def _namespace(module):
    # The module's dict as PyModule_GetDict has it: no attribute lookup, which a lazy module (importlib.util's
    # LazyLoader, Mercurial's demandimport) would answer by importing itself, with sys.meta_path gone. {} for what
    # is not a module: CPython leaves it as it is.
    try:
        return _MODULE_DICT.__get__(module)
    except TypeError:
        return {}


def _clear(namespace):
    # _PyModule_ClearDict (Objects/moduleobject.c): _private names first, then the rest.
    for private in (True, False):
        for key in list(namespace):
            if isinstance(key, str) and namespace[key] is not None and (
                    (key[:1] == '_' and key[1:2] != '_') if private else key != '__builtins__'):
                try:
                    namespace[key] = None
                except BaseException as exc:
                    _unraisable(None, exc)


def _unraisable(obj, exc):
    _stderr_write('Exception ignored in: %r\n' % (obj,) if obj is not None else 'Exception ignored:\n')
    try:
        sys.__excepthook__(type(exc), exc, exc.__traceback__)
    except BaseException:
        pass


def _stderr_write(text):
    stream = getattr(sys, 'stderr', None)
    try:
        stream.write(text)
    except BaseException:
        os.write(2, text.encode('utf-8', 'backslashreplace'))
