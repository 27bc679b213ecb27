# Kiln precompiler: fill the bytecode cache for entry scripts and everything
# they import, without executing any of their code.
#
#     python kiln_precompile.py <timestamp|checked-hash> <scripts-root> <entry-script>...
#
# PYTHONPYCACHEPREFIX must point at the (writable) cache. Imports are found
# with ast (import / from-import, relative ones too, at any nesting depth) and
# resolved the way the interpreter would for that script: sys.path is the
# script's folder followed by the interpreter's default sys.path (without this
# file's folder); importlib's PathFinder locates the files, nothing is imported.
# Every .py source found that has no valid bytecode (in the cache, or for
# sources outside the scripts root a valid shipped __pycache__ pyc) is compiled
# and written through kiln_loader's writer (same lock, validation, reports).
#
# Output: JSON lines on stdout, one per event, flushed (kiln_protocol.py owns
# them and the command line):
#   {"event":"script","path":P,"index":i,"total":n}
#   {"event":"compiled","path":P}
#   {"event":"error","path":P,"line":L,"message":M}
#   {"event":"summary","scripts":n,"compiled":c,"fresh":f,"errors":e}
# Exit status 0 without errors, 1 with errors, 2 on a usage error.

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
try:
    import kiln_loader
    import kiln_protocol
finally:
    del sys.path[0]


def _emit(event, **fields):
    sys.stdout.write(kiln_protocol.event_line(event, **fields))
    sys.stdout.flush()


class Precompiler:

    def __init__(self, base_path):
        self.base_path = base_path
        self.status = {}        # source path -> 'fresh' | 'compiled' | 'error'
        self.imports = {}       # (source path, name, is_pkg) -> [(module, fromlist)]
        self.compiled = 0
        self.fresh = 0
        self.errors = 0
        self.stdlib = os.path.dirname(os.__file__) + '/'
        self.site = self.stdlib + 'site-packages/'

    # -- bytecode ----------------------------------------------------------

    def _error(self, path, line, message):
        self.errors += 1
        _emit('error', path=path, line=line, message=message)
        where = path if line is None else '%s:%s' % (path, line)
        sys.stderr.write('%s: %s\n' % (where, message))
        sys.stderr.flush()

    def ensure(self, name, path):
        # Valid bytecode for `path`; True when its imports are worth reading.
        known = self.status.get(path)
        if known is not None:
            return known != 'error'
        try:
            result = kiln_loader.ensure(name, path)
        except SyntaxError as exc:
            self.status[path] = 'error'
            self._error(path, exc.lineno, 'SyntaxError: %s' % (exc.msg,))
            return False
        except Exception as exc:        # ValueError (null bytes), OSError...
            self.status[path] = 'error'
            self._error(path, getattr(exc, 'lineno', None),
                        '%s: %s' % (type(exc).__name__, exc))
            return False
        if result == 'compiled':
            self.status[path] = 'compiled'
            self.compiled += 1
            _emit('compiled', path=path)
        elif result == 'unwritten':
            self.status[path] = 'error'
            self._error(path, None, 'bytecode could not be written to the cache '
                                    '(see the kiln:cache-error line on stderr)')
            return False
        else:                                   # 'cached', 'shipped' or 'private'
            self.status[path] = 'fresh'
            self.fresh += 1
        return True

    def shipped_stdlib(self, path):
        # The standard library imports only itself: when a stdlib module came
        # with valid bytecode, so did its imports; reading them all (hundreds
        # of files) would only slow the precompiler down.
        return (self.status.get(path) == 'fresh' and
                path.startswith(self.stdlib) and not path.startswith(self.site))

    # -- imports -----------------------------------------------------------

    def imports_of(self, path, name, is_pkg):
        key = (path, name, is_pkg)
        found = self.imports.get(key)
        if found is not None:
            return found
        found = []
        try:
            with open(path, 'rb') as f:
                tree = ast.parse(f.read(), path)
        except (SyntaxError, ValueError, OSError):
            tree = None
        if tree is not None:
            package = name if is_pkg else name.rpartition('.')[0]
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        found.append((alias.name, ()))
                elif isinstance(node, ast.ImportFrom):
                    if node.level:
                        if name == '__main__' or not package:
                            continue            # ImportError at run time
                        bits = package.rsplit('.', node.level - 1)
                        if len(bits) < node.level:
                            continue            # beyond the top-level package
                        base = bits[0]
                        module = base + '.' + node.module if node.module else base
                    else:
                        module = node.module
                    found.append((module, tuple(a.name for a in node.names if a.name != '*')))
        self.imports[key] = found
        return found

    def script(self, script):
        path = kiln_loader.main_path(script)
        if not self.ensure('__main__', path):
            return
        search_path = [os.path.dirname(os.path.realpath(path))] + self.base_path
        specs = {}

        def find(modname):
            if modname in specs:
                return specs[modname]
            spec = None
            specs[modname] = None           # guards against cycles
            try:
                if (BuiltinImporter.find_spec(modname) is None and
                        FrozenImporter.find_spec(modname) is None):
                    parent = modname.rpartition('.')[0]
                    if parent:
                        pspec = find(parent)
                        locations = pspec.submodule_search_locations if pspec else None
                        if locations:
                            spec = PathFinder.find_spec(modname, list(locations))
                    else:
                        spec = PathFinder.find_spec(modname, search_path)
            except (ImportError, ValueError, OSError):
                spec = None
            specs[modname] = spec
            return spec

        visited = set()
        queue = [(path, '__main__', False)]
        while queue:
            src, modname, is_pkg = queue.pop()
            for module, fromlist in self.imports_of(src, modname, is_pkg):
                parts = module.split('.')
                wanted = ['.'.join(parts[:i]) for i in range(1, len(parts) + 1)]
                spec = find(module)
                if spec is not None and spec.submodule_search_locations is not None:
                    wanted.extend(module + '.' + n for n in fromlist)
                for target in wanted:
                    if target in visited:
                        continue
                    visited.add(target)
                    tspec = find(target)
                    if (tspec is None or not isinstance(tspec.loader, SourceFileLoader)
                            or not tspec.origin):
                        continue
                    if (self.ensure(tspec.name, tspec.origin) and
                            not self.shipped_stdlib(tspec.origin)):
                        queue.append((tspec.origin, tspec.name,
                                      tspec.submodule_search_locations is not None))


def main(argv):
    try:
        args = kiln_protocol.parse_precompile_args(argv)
    except ValueError as exc:
        sys.stderr.write('%s\n' % (exc,))
        return 2
    if kiln_loader.configure('rw', args.validation, args.root) != 'rw':
        if not kiln_loader.unsupported():       # else configure() said why
            sys.stderr.write('kiln_precompile.py: PYTHONPYCACHEPREFIX is not set\n')
        return 2
    if sys.flags.dont_write_bytecode:
        sys.stderr.write('kiln_precompile.py: cannot write bytecode under -B\n')
        return 2
    # Imported only now, so that Kiln's loader serves them (shipped bytecode).
    global ast, BuiltinImporter, FrozenImporter, PathFinder, SourceFileLoader
    import ast
    from importlib.machinery import (BuiltinImporter, FrozenImporter, PathFinder,
                                     SourceFileLoader)
    here = {_HERE, os.path.realpath(_HERE)}
    base_path = [p for p in sys.path if p not in here and os.path.abspath(p or '.') not in here]
    pre = Precompiler(base_path)
    total = len(args.scripts)
    for index, script in enumerate(args.scripts, 1):
        _emit('script', path=script, index=index, total=total)
        pre.script(script)
    _emit('summary', scripts=total, compiled=pre.compiled, fresh=pre.fresh, errors=pre.errors)
    return 1 if pre.errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
