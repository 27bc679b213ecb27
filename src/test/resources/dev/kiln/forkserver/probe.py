"""Dumps what a script can see of its interpreter's state, one `name<TAB>json` line per field."""
KEYS = list(globals())
import sys
MODULES = sorted(sys.modules)
import gc, json, locale, os, resource, signal, stat, time, warnings

main = sys.modules['__main__']
g = globals()


def stream(s):
    b = getattr(s, 'buffer', None)
    raw = getattr(b, 'raw', b)
    return [type(s).__name__, s.encoding, s.errors, s.line_buffering, s.write_through, s.isatty(), s.name,
            s.mode, s.fileno(), type(b).__name__, type(raw).__name__, raw.name, s is getattr(sys, '__%s__' % s.name[1:-1])]


status = dict(line.split(':\t', 1) for line in open('/proc/self/status').read().splitlines() if ':\t' in line)
signals = {}
for n in sorted(signal.valid_signals()):
    try:
        signals[int(n)] = repr(signal.getsignal(n))
    except (ValueError, OSError):
        pass
umask = os.umask(0)
os.umask(umask)
fields = dict(
    keys=KEYS,
    dunders={k: repr(g[k]) for k in ('__name__', '__doc__', '__package__', '__spec__', '__file__', '__cached__')},
    loader=[type(__loader__).__module__, type(__loader__).__name__, __loader__.name, __loader__.path],
    builtins=[type(__builtins__).__name__, __builtins__ is __import__('builtins')],
    main=[repr(main), main.__dict__ is g],
    argv=sys.argv, orig_argv=sys.orig_argv, path=sys.path, flags=repr(sys.flags), executable=sys.executable,
    prefixes=[sys.prefix, sys.base_prefix, sys.exec_prefix, sys.platlibdir],
    environ=dict(os.environ),
    posix_environ=sorted((k.decode('utf-8', 'surrogateescape'), v.decode('utf-8', 'surrogateescape'))
                         for k, v in __import__('posix').environ.items()),
    stdin=stream(sys.stdin), stdout=stream(sys.stdout), stderr=stream(sys.stderr),
    encodings=[sys.getfilesystemencoding(), sys.getfilesystemencodeerrors(), sys.getdefaultencoding(),
               locale.getpreferredencoding(False), locale.setlocale(locale.LC_CTYPE),
               locale.setlocale(locale.LC_ALL)],
    tz=[time.tzname, time.timezone, time.altzone, time.daylight, time.strftime('%Z %z', time.localtime(1.7e9))],
    signals=signals, sigign=status['SigIgn'], sigcgt=status['SigCgt'], sigblk=status['SigBlk'],
    sigmask=sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
    wakeup=signal.set_wakeup_fd(-1),
    umask=umask,
    limits={n: resource.getrlimit(getattr(resource, n)) for n in dir(resource) if n.startswith('RLIMIT_')},
    fds=sorted(os.listdir('/proc/self/fd')),
    fdflags=[[os.get_inheritable(fd), os.get_blocking(fd)] for fd in (0, 1, 2)],
    fdkinds=[stat.S_IFMT(os.fstat(fd).st_mode) for fd in (0, 1, 2)],
    session=[os.getsid(0) == os.getpid(), os.getpgrp() == os.getpid()],
    ppid=os.getppid(),
    cwd=os.getcwd(),
    ids=[os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()],
    modules=MODULES,
    hooks=[sys.excepthook is sys.__excepthook__, sys.displayhook is sys.__displayhook__,
           sys.breakpointhook is sys.__breakpointhook__, sys.gettrace(), sys.getprofile()],
    interpreter=[sys.getrecursionlimit(), sys.getswitchinterval(), gc.isenabled(), gc.get_threshold(),
                 sys.dont_write_bytecode, sys.pycache_prefix, sys.warnoptions, sys._xoptions,
                 sys.get_int_max_str_digits(), sys.hash_info.algorithm],
    warnings=repr(warnings.filters),
    importers=[[type(f).__name__ for f in sys.meta_path], [getattr(h, '__name__', type(h).__name__)
                                                            for h in sys.path_hooks]],
    atexit=__import__('atexit')._ncallbacks(),
    depth=len(__import__('traceback').extract_stack(sys._getframe())),
)
for name, value in sorted(fields.items()):
    print(name, json.dumps(value, sort_keys=True, default=repr), sep='\t')
