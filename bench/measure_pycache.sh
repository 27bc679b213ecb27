#!/usr/bin/env bash
# Measures what the bytecode cache is worth for a CGI script with ~3,000 lines
# of local modules, run as user nobody with the system's python3 and a clean
# environment:
#   (1) python3 main.py, the scripts folder writable: warm __pycache__ next to the sources
#   (2) python3 main.py, the scripts folder NOT writable: every run compiles the modules
#   (3) python3 kiln_boot.py rw timestamp <root> main.py with a warm Kiln prefix
# then (4) the fixed cost of kiln_boot.py on a hello world (plain python3 vs Kiln, both
# warm, same environment), with hyperfine and again interleaved.
#
# Usage: bench/measure_pycache.sh [runs]        (needs root, hyperfine, setpriv)
set -euo pipefail

RUNS=${1:-30}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
RES="$HERE/../src/main/resources/dev/kiln/python"
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

[ "$(id -u)" = 0 ] || { echo "run as root (it switches to nobody)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed" >&2; exit 2; }

WORK=$(mktemp -d /tmp/kiln-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
mkdir -p "$WORK/R" "$WORK/gen" "$WORK/out" "$WORK/cache"
cp "$RES"/kiln_*.py "$WORK/R/"

# ---- generate an entry script and 12 local modules (~3,000 lines) ----
"$PY" - "$WORK/gen" <<'EOF'
import os, sys
out = sys.argv[1]
total = 0
names = []
for m in range(10):
    name = 'mod%02d' % m
    names.append(name)
    lines = ['"""Generated module %s."""' % name, 'import re', 'import json', '']
    for c in range(4):
        lines += [
            'class Thing%d:' % c,
            '    """A generated class."""',
            '    def __init__(self, n=%d):' % c,
            '        self.n = n',
            '        self.items = [i * %d for i in range(n + 3)]' % (c + 1),
            '',
        ]
        for f in range(6):
            lines += [
                '    def method_%d(self, x, *args, **kw):' % f,
                '        total = 0',
                '        for i, v in enumerate(self.items):',
                '            if (i + x) %% %d == 0:' % (f + 2),
                '                total += v * %d' % (f + 1),
                '            elif v > x:',
                '                total -= len(str(v))',
                '        return {"n": self.n, "x": x, "total": total, "kw": sorted(kw)}',
                '',
            ]
    for f in range(6):
        lines += [
            'def helper_%d(text, pattern=r"\\w+"):' % f,
            '    words = re.findall(pattern, text)',
            '    counts = {}',
            '    for w in words:',
            '        counts[w] = counts.get(w, 0) + %d' % (f + 1),
            '    return json.dumps(counts, sort_keys=True)',
            '',
        ]
    with open(os.path.join(out, name + '.py'), 'w') as fh:
        fh.write('\n'.join(lines) + '\n')
    total += len(lines)
main = ['import %s' % n for n in names] + [
    'print("Content-Type: text/plain")',
    'print()',
    'print(%s)' % ' + '.join('%s.Thing1(5).method_2(1)["total"]' % n for n in names),
]
with open(os.path.join(out, 'main.py'), 'w') as fh:
    fh.write('\n'.join(main) + '\n')
total += len(main)
print('generated %d modules + main.py: %d lines' % (len(names), total))
EOF
echo 'print("Content-Type: text/plain\n\nhello")' > "$WORK/gen/hello.py"

# writable scripts folder (owned by nobody), unwritable one (root's), Kiln prefix (nobody's, 0700)
cp -r "$WORK/gen" "$WORK/writable"
cp -r "$WORK/gen" "$WORK/readonly"
chown -R nobody:nogroup "$WORK/writable" "$WORK/out" "$WORK/cache"
chmod -R a+rX "$WORK/R" "$WORK/readonly" "$WORK/gen"
chmod 700 "$WORK/cache"

ENV=(env -i PATH=/usr/bin:/bin)
KENV=(env -i PATH=/usr/bin:/bin PYTHONPYCACHEPREFIX="$WORK/cache/py")
C1="${ENV[*]} $PY $WORK/writable/main.py"
C2="${ENV[*]} $PY $WORK/readonly/main.py"
C3="${KENV[*]} $PY $WORK/R/kiln_boot.py rw timestamp $WORK/readonly $WORK/readonly/main.py"
H1="${KENV[*]} $PY $WORK/readonly/hello.py"
H2="${KENV[*]} $PY $WORK/R/kiln_boot.py rw timestamp $WORK/readonly $WORK/readonly/hello.py"

# warm up once, check the outputs agree and that (2) really has no __pycache__
o1=$("${AS_NOBODY[@]}" $C1); o2=$("${AS_NOBODY[@]}" $C2); o3=$("${AS_NOBODY[@]}" $C3 2>/dev/null)
"${AS_NOBODY[@]}" $H1 >/dev/null; "${AS_NOBODY[@]}" $H2 >/dev/null 2>&1
[ "$o1" = "$o2" ] && [ "$o1" = "$o3" ] || { echo "outputs differ" >&2; exit 1; }
[ -d "$WORK/writable/__pycache__" ] || { echo "no __pycache__ in the writable folder" >&2; exit 1; }
[ ! -e "$WORK/readonly/__pycache__" ] || { echo "__pycache__ in the read-only folder" >&2; exit 1; }
echo "warm Kiln run: $("${AS_NOBODY[@]}" $C3 2>&1 >/dev/null | tr -d '\036')"

"${AS_NOBODY[@]}" hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/out/main.json" \
    -n "(1) python3, writable __pycache__" "$C1" \
    -n "(2) python3, unwritable folder" "$C2" \
    -n "(3) kiln_boot.py, warm prefix" "$C3" >/dev/null
HELLO_RUNS=$((RUNS * 200 / 30))
"${AS_NOBODY[@]}" hyperfine -N --warmup 10 --runs "$HELLO_RUNS" --export-json "$WORK/out/hello.json" \
    -n "hello, python3" "$H1" -n "hello, kiln_boot.py" "$H2" >/dev/null

"$PY" - "$WORK/out/main.json" "$WORK/out/hello.json" <<'EOF'
import json, sys, statistics
main = json.load(open(sys.argv[1]))['results']
hello = json.load(open(sys.argv[2]))['results']
ms = lambda r: r['mean'] * 1000
med = lambda r: statistics.median(r['times']) * 1000
lo = lambda r: r['min'] * 1000
for r in main:
    print('%-36s mean %7.2f ms  median %7.2f ms  min %7.2f ms  sd %.2f' % (
        r['command'], ms(r), med(r), lo(r), r['stddev'] * 1000))
for what, f in (('means', ms), ('medians', med), ('minimums', lo)):
    m1, m2, m3 = (f(r) for r in main)
    print('ratios of %-8s (2)/(1) = %.2f   (3)/(1) = %.2f   (2)/(3) = %.2f' % (what, m2 / m1, m3 / m1, m2 / m3))
print()
print('(4) fixed cost of kiln_boot.py on a hello world, both warm')
for r in hello:
    print('%-36s mean %7.2f ms  median %7.2f ms  min %7.2f ms  sd %.2f' % (
        r['command'], ms(r), med(r), lo(r), r['stddev'] * 1000))
print('hyperfine (one after the other): mean %+.2f ms, median %+.2f ms'
      % (ms(hello[1]) - ms(hello[0]), med(hello[1]) - med(hello[0])))
EOF

# The same pair interleaved (A B B A ...), so that load from other processes hits both
# alike, with the CPU time of each run from wait4().
"${AS_NOBODY[@]}" "$PY" - "$HELLO_RUNS" "$H1" "$H2" <<'EOF'
import os, statistics, sys, time
n, a, b = int(sys.argv[1]), sys.argv[2].split(), sys.argv[3].split()
def run(cmd):
    t = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, {"PATH": "/usr/bin:/bin"}, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, '/dev/null', os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, '/dev/null', os.O_WRONLY, 0)])
    _, status, ru = os.wait4(pid, 0)
    assert status == 0, cmd
    return (time.perf_counter() - t) * 1000, (ru.ru_utime + ru.ru_stime) * 1000
res = ([], [])
for i in range(n + 10):
    for k in ((0, 1) if i % 2 else (1, 0)):
        r = run((a, b)[k])
        if i >= 10:
            res[k].append(r)
wall = lambda k: [x[0] for x in res[k]]
cpu = lambda k: [x[1] for x in res[k]]
print('interleaved, %d runs each: wall mean %+.2f ms, wall median %+.2f ms, cpu mean %+.2f ms' % (
    n, statistics.mean(wall(1)) - statistics.mean(wall(0)),
    statistics.median(wall(1)) - statistics.median(wall(0)),
    statistics.mean(cpu(1)) - statistics.mean(cpu(0))))
EOF
