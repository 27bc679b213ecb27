# Kiln entry file. Kept tiny on purpose: CPython never caches the bytecode of
# the file it is started with, so everything lives in kiln_loader.py (whose
# bytecode is cached under sys.pycache_prefix like any imported module).
# Usage: python kiln_boot.py <rw|ro|off> <timestamp|checked-hash> <scripts-root> <script> [args...]
# (kiln_protocol.py owns this command line; the mode is read here, at argv[1],
# before Kiln's modules are imported: only rw lets them write their bytecode.)
import sys, os, _signal
try:
    os.setsid()  # lead a process group of our own, so Kiln can stop the script and all it starts
except OSError:
    pass
# A JVM starts children with SIGQUIT blocked (its own thread's mask); a script starts with none, as under Apache.
_signal.pthread_sigmask(_signal.SIG_SETMASK, ())
_w = sys.dont_write_bytecode
sys.dont_write_bytecode = _w or sys.argv[1:2] != ['rw']
sys.path.insert(0, os.path.dirname(__file__))
try:
    import kiln_loader
finally:
    del sys.path[0]
    sys.dont_write_bytecode = _w
kiln_loader.main()
