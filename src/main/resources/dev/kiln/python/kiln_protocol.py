"""What Kiln (Java) and its Python side say to each other, in one place.

The Java twin of this module is dev.kiln.python.LoaderProtocol: change both
together, and keep their round-trip test passing.

1. kiln_boot.py's command line (argv after the boot file, see BOOT_FIELDS):

       <mode> <validation> <scripts-root> <script> [args...]

   mode        rw   read and write bytecode under sys.pycache_prefix
               ro   read bytecode from the prefix only; compile misses in memory
               off  leave the import system alone; compile the script in memory
   validation  timestamp | checked-hash   (kind of pyc Kiln writes)

   kiln_boot.py itself reads the mode at argv[1] before importing anything
   (it decides whether Kiln's own modules may write their bytecode).

2. kiln_precompile.py's command line (see PRECOMPILE_FIELDS):

       <validation> <scripts-root> <entry-script>...

3. Lines on stderr (fd 2) that start with MARKER; Kiln takes them out of the
   script's stderr:

       stats compiled=<n> cached=<n> shipped=<n> compile_us=<n>
       cache-error op=<mkdir|read|write|lock> errno=<E...> path=<p> dir=<d>

   Every value is one word: bytes outside printable ASCII, '%' and '=' are
   written %XX (see _escape), so a path cannot spill into another field.

4. kiln_precompile.py's events: one JSON object a line on stdout, with the
   keys of EVENT_FIELDS in that order after "event".

Nothing here is imported that CPython has not loaded at start-up: the module
is on the path of every request (json is imported by event_line() only).
"""

import os

MARKER = '\x1ekiln:'

MODES = ('rw', 'ro', 'off')
VALIDATIONS = ('timestamp', 'checked-hash')
CACHE_OPS = ('mkdir', 'read', 'write', 'lock')

STATS = 'stats'
STATS_FIELDS = ('compiled', 'cached', 'shipped', 'compile_us')
CACHE_ERROR = 'cache-error'
CACHE_ERROR_FIELDS = ('op', 'errno', 'path', 'dir')
COLD = 'cold'
COLD_FIELDS = ('pyc', 'source')

# Positions in argv without the boot file / the precompiler's file; the last
# field takes all the arguments from its position on.
BOOT_FIELDS = ('mode', 'validation', 'root', 'script', 'args')
PRECOMPILE_FIELDS = ('validation', 'root', 'scripts')

EVENT_FIELDS = {
    'script': ('path', 'index', 'total'),
    'compiled': ('path',),
    'error': ('path', 'line', 'message'),
    'summary': ('scripts', 'compiled', 'fresh', 'errors'),
}

BOOT_USAGE = ('usage: kiln_boot.py <rw|ro|off> <timestamp|checked-hash> '
              '<scripts-root> <script> [args...]')
PRECOMPILE_USAGE = ('usage: kiln_precompile.py <timestamp|checked-hash> '
                    '<scripts-root> <entry-script>...')


def _record(name, fields, doc):
    """A namedtuple class, built without collections (not loaded at start-up)."""
    def __new__(cls, *values, **named):
        values += tuple(named.pop(f) for f in fields[len(values):] if f in named)
        if named or len(values) != len(fields):
            raise TypeError('%s takes the fields %s' % (name, ', '.join(fields)))
        return tuple.__new__(cls, values)

    def __repr__(self):
        return '%s(%s)' % (name, ', '.join('%s=%r' % fv for fv in zip(fields, self)))

    body = {'__slots__': (), '__doc__': doc, '_fields': fields,
            '__new__': __new__, '__repr__': __repr__}
    for i, field in enumerate(fields):
        body[field] = property(lambda self, i=i: self[i])
    return type(name, (tuple,), body)


BootArgs = _record('BootArgs', BOOT_FIELDS,
                   "kiln_boot.py's arguments; args is the script's own list.")
PrecompileArgs = _record('PrecompileArgs', PRECOMPILE_FIELDS,
                         "kiln_precompile.py's arguments; scripts is a list.")


def _one_of(what, value, allowed, prefix=''):
    """Raises ValueError unless value is in allowed ('mode must be rw, ro or off, not ...')."""
    if value not in allowed:
        choices = ', '.join(allowed[:-1]) + ' or ' + allowed[-1] if allowed[1:] else allowed[0]
        raise ValueError('%s%s must be %s, not %r' % (prefix, what, choices, value))


def check_mode(mode):
    """Raises ValueError unless mode is one of MODES."""
    _one_of('mode', mode, MODES)


def check_validation(validation):
    """Raises ValueError unless validation is one of VALIDATIONS."""
    _one_of('validation', validation, VALIDATIONS)


def parse_boot_args(argv):
    """BootArgs from kiln_boot.py's argv without the boot file.

    Raises ValueError whose message is the line kiln_boot.py prints before it
    exits with status 2: BOOT_USAGE for too few arguments, else the first of
    mode and validation that is not valid.
    """
    fixed = len(BOOT_FIELDS) - 1
    if len(argv) < fixed:
        raise ValueError(BOOT_USAGE)
    mode, validation, root, script = argv[:fixed]
    _one_of('mode', mode, MODES, 'kiln_boot.py: ')
    _one_of('validation', validation, VALIDATIONS, 'kiln_boot.py: ')
    return BootArgs(mode, validation, root, script, list(argv[fixed:]))


def parse_precompile_args(argv):
    """PrecompileArgs from kiln_precompile.py's argv without its own file.

    Raises ValueError whose message is the line kiln_precompile.py prints
    before it exits with status 2 (PRECOMPILE_USAGE without a script).
    """
    fixed = len(PRECOMPILE_FIELDS) - 1
    if len(argv) <= fixed:
        raise ValueError(PRECOMPILE_USAGE)
    validation, root = argv[:fixed]
    _one_of('validation', validation, VALIDATIONS, 'kiln_precompile.py: ')
    return PrecompileArgs(validation, root, list(argv[fixed:]))


def entered(path):
    """True when Kiln started the script (KILN_FOLDER, the folder it checked,
    taken out of the environment here) and the working folder is that one, so
    the script is read by its name there: a folder on its path swapped for a
    symlink after Kiln's check cannot change what runs. Exits 126 otherwise."""
    folder = os.environ.pop('KILN_FOLDER', None)
    if folder is None:
        return False
    try:
        here = os.getcwd()
    except OSError:
        here = None
    if here != folder or os.path.dirname(path) != folder:
        os.write(2, ('kiln: %s was moved or replaced while the script started; not run\n' % folder)
                 .encode('utf-8', 'surrogateescape'))
        raise SystemExit(126)
    return True


_SAFE = frozenset(range(0x21, 0x7f)) - {0x25, 0x3d}    # printable ASCII but '%' and '='


def _escape(value):
    """A value as one word: bytes outside printable ASCII, '%' and '=' as %XX.

    Paths may hold spaces, '=', newlines or text that looks like another
    field ('x path=/y'); escaped, every field is exactly one word, so the
    Java side splits on spaces and nothing can be read as what it is not.
    """
    if isinstance(value, int):
        return '%d' % value
    raw = value if isinstance(value, bytes) else os.fsencode(value)
    return ''.join(chr(c) if c in _SAFE else '%%%02X' % c for c in raw)


def _line(kind, fields, values):
    """MARKER, the kind and ' field=value' for each field (values escaped), and a newline."""
    return MARKER + kind + ''.join(' %s=%s' % (f, _escape(v)) for f, v in zip(fields, values)) + '\n'


def stats_line(compiled, cached, shipped, compile_us):
    """The per-process counters line, marker and newline included."""
    return _line(STATS, STATS_FIELDS, [int(n) for n in (compiled, cached, shipped, compile_us)])


def cold_line(pyc, source):
    """The line for a module a fork server's child read from the cache itself (kiln_warmcode.py)."""
    return _line(COLD, COLD_FIELDS, (pyc, source))


def unescape(word):
    """_escape's inverse, as bytes: what Kiln hands back of a line, e.g. a fork server's warm command."""
    parts = word.split(b'%')
    return parts[0] + b''.join(bytes.fromhex(p[:2].decode('ascii')) + p[2:] for p in parts[1:])


def cache_error_line(op, errno_name, path, dir):
    """The line for an OSError under the cache prefix, marker and newline included."""
    return _line(CACHE_ERROR, CACHE_ERROR_FIELDS, (op, errno_name, path, dir))


def event_line(event, **fields):
    """One precompiler event as a JSON line: "event" first, then EVENT_FIELDS[event].

    Raises ValueError for an unknown event or fields other than its own.
    """
    import json
    names = EVENT_FIELDS.get(event)
    if names is None:
        raise ValueError('unknown event %r' % (event,))
    if sorted(names) != sorted(fields):
        raise ValueError('event %r takes the fields %s, not %s' % (
            event, ', '.join(names), ', '.join(sorted(fields))))
    body = {'event': event}
    for name in names:
        body[name] = fields[name]
    return json.dumps(body) + '\n'
