#!/usr/bin/env python3
"""Kiln's run modes against Apache under load: req/s, p50, p99 and CPU per request, side by side, in one run.

Workloads: (1) a hello-world Python script, (2) the import-heavy script of cache_bench.py (500-line entry,
10,000 lines of local modules), (3) the same with its modules preloaded (fork-server only), (4) Mercurial's
hgweb.cgi summary page, (5) a #!/bin/sh hello. Servers: Kiln --run-mode classic, Kiln --run-mode forkserver
(for (3) and once more for (4) with --preload: the application's modules, or Mercurial's), Apache httpd 2.4 event MPM + mod_cgid (its best case: a writable PYTHONPYCACHEPREFIX). Everything on 127.0.0.1,
every server and script as nobody, /usr/bin/python3; the configurations interleave in every round so drift in
the machine's load hits all alike, and every server but the one measured is paused (SIGSTOP) meanwhile, so that
an idle server's JIT takes nothing from it. A Kiln option this build lacks makes its column "n/a (option missing)".
The footer gives the floor: a warm python3 forking and reaping an empty child in a loop.
Usage (as root, from the repository root, after `mvn -q -DskipTests package`; needs wrk, apache2, mercurial):
    python3 bench/runmode_bench.py [--seconds 8] [--rounds 3] [--threads 2] [--connections 8] [--workloads 1,2,3,4,5]
"""
import argparse
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import namedtuple

from cache_bench import NOBODY, PY, generate
from runmode_servers import (APACHE2, APACHE_MODULES, CpuGroups, OptionMissing, StartFailed, chown_nobody,
                             start_apache, start_kiln)

HGWEB_CGI = "/usr/share/doc/mercurial-common/examples/hgweb.cgi"
HG_ENV = {"HGRCPATH": "", "HGENCODING": "utf-8", "HGPLAIN": "1"}
Workload = namedtuple("Workload", "key name path expect")
WORKLOADS = [
    Workload("1", "(1) hello-world .py", "/cgi-bin/hello.py", b"hello from python"),
    Workload("2", "(2) import-heavy .py", "/cgi-bin/app.py", b"total 45"),
    Workload("3", "(3) (2) preloaded", "/cgi-bin/app.py", b"total 45"),
    Workload("4", "(4) hgweb.cgi summary", "/cgi-bin/hg/hgweb.cgi/summary?style=gitweb", b"Summary"),
    Workload("5", "(5) #!/bin/sh hello", "/cgi-bin/hello.sh", b"hello from sh"),
]
APP_MODULES = ["mod%02d" % m for m in range(10)]
# What an operator serving hgweb.cgi would preload: the default list and the Mercurial modules its pages import
# (imported whole here, without hgweb.cgi's demandimport).
DEFAULT_PRELOAD = ["os", "sys", "io", "re", "json", "html", "datetime", "urllib.parse", "http.cookies", "email.message"]
HG_MODULES = ["mercurial.hgweb", "mercurial.hgweb.wsgicgi", "mercurial.hgweb.wsgiheaders", "mercurial.hg",
              "mercurial.upgrade"]
# issue 7's targets, Kiln/Apache req/s: (classic, fork-server)
TARGETS = {"1": (">=1.0x", ">=5x"), "2": (">=1.0x", ">=4x"), "3": ("", ">=8x"), "4": ("", ">=3x"),
           "5": (">=1.0x", "")}
FLOOR = r"""
import os, sys, time
import re, json, html, datetime, urllib.parse, http.cookies, email.message  # about a fork-server's size
def fork_once():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
for _ in range(200):
    fork_once()
n, start = 0, time.perf_counter()
end = start + float(sys.argv[1])
while time.perf_counter() < end:
    fork_once()
    n += 1
print(n / (time.perf_counter() - start))
"""


MIX_LUA = """
local paths = {"/cgi-bin/hello.sh", "/cgi-bin/hello.py", "/cgi-bin/hello.sh", "/cgi-bin/app.py"}
local n = 0
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
"""


class Config:
    """One column: a server (Kiln with extra flags, or Apache when extra is None) and the workloads it serves."""

    def __init__(self, key, label, extra, workloads):
        self.key, self.label, self.extra, self.workloads = key, label, extra, workloads
        self.server = None
        self.na = {}  # workload key -> why there is no figure


def write_script(folder, rel, text):
    path = os.path.join(folder, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o755)


def hg(cwd, *args):
    env = dict(HG_ENV, PATH="/usr/bin:/bin", HOME=cwd, HGUSER="Bench <bench@example.invalid>", TZ="UTC")
    subprocess.run(["hg"] + list(args), cwd=cwd, env=env, check=True, capture_output=True, timeout=120)


def make_repo(repo):
    """A small repository with some history, a tag and a branch, owned by nobody (hgweb writes its caches)."""
    os.makedirs(repo)
    hg(repo, "init")
    for i in range(12):
        with open(os.path.join(repo, "file%d.txt" % (i % 4)), "a") as fh:
            fh.write(("line %d\n" % i) * (i + 1))
        hg(repo, "commit", "-A", "-m", "Change number %d" % i, "-d", "2024-01-%02d 12:00 +0000" % (i + 1))
    hg(repo, "tag", "-d", "2024-02-01 12:00 +0000", "v1.0")
    hg(repo, "branch", "feature-x")
    with open(os.path.join(repo, "feature.txt"), "w") as fh:
        fh.write("feature\n")
    hg(repo, "commit", "-A", "-m", "Start feature x", "-d", "2024-02-02 12:00 +0000")
    chown_nobody(repo)


def make_scripts(work):
    scripts = os.path.join(work, "scripts")
    generate(scripts)
    write_script(scripts, "hello.py", "#!/usr/bin/python3\nprint('Content-Type: text/plain')\nprint()\n"
                                      "print('hello from python')\n")
    write_script(scripts, "hello.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello from sh\\n'\n")
    repo = os.path.join(work, "repo")
    make_repo(repo)
    with open(HGWEB_CGI) as fh:
        cgi = fh.read()
    original = 'config = b"/path/to/repo/or/config"'
    assert original in cgi, HGWEB_CGI + " changed: cannot point it at the repository"
    write_script(scripts, "hg/hgweb.cgi", cgi.replace(original, 'config = b"%s"' % repo))
    for root, dirs, files in os.walk(scripts):
        os.chmod(root, 0o755)  # root's: nobody reads, nobody writes a __pycache__ next to the sources
        for f in files:
            os.chmod(os.path.join(root, f), 0o755)
    return scripts


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(server, path, args, seconds=None, lua=None):
    """One load run; the server's CPU over it, divided by the requests wrk completed."""
    seconds = seconds or args.seconds
    own0, total0 = server.cpu_ms()
    jit0 = server.jit_ms()
    cmd = ["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % seconds, "--timeout", "10s",
           "--latency"] + (["-s", lua] if lua else []) + ["http://127.0.0.1:%d%s" % (server.port, path)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    time.sleep(0.5)  # scripts still running when wrk stopped finish and are reaped within this run
    own1, total1 = server.cpu_ms()
    jit = server.jit_ms() - jit0
    out = r.stdout
    done = re.search(r"(\d+) requests in", out)
    if r.returncode != 0 or not done:
        raise RuntimeError("wrk failed: " + (r.stderr or out).strip()[-300:])
    n = int(done.group(1))
    lat = {p: to_ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors:(.*)", out)
    errors += sum(int(x) for x in re.findall(r"\d+", socket_errors.group(1))) if socket_errors else 0
    per = (lambda ms: ms / n) if n else (lambda ms: None)  # no request completed: no figure per request
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": lat.get("50"),
            "p99": lat.get("99"), "own": per(own1 - own0), "scripts": per(total1 - own1 - total0 + own0),
            "jit": per(jit), "errors": errors, "requests": n}


@contextlib.contextmanager
def alone(configs, server):
    """Every other server paused while `server` is warmed up or measured."""
    others = [c.server for c in configs if c.server and c.server is not server]
    for o in others:
        o.pause(True)
    try:
        yield
    finally:
        for o in others:
            o.pause(False)


def check(server, w):
    status, body = server.get(w.path)
    if status != 200 or w.expect not in body:
        return "HTTP %d: %r" % (status, body[:120])
    return None


def jit_warmup(server, args, lua):
    """Kiln's request path compiled by the JIT before timing, as in a server that has run for a while: mixed load
    (hello.sh, hello.py, app.py) in short runs until at least --jit-warmup requests are served and the JIT's
    compiler threads use under 5% of Kiln's CPU in a run, or --jit-max-seconds pass. (1,500 requests one at a
    time leave C2 compiling for ~15,000 more under load, ~0.4 ms of Kiln's CPU per request meanwhile.)"""
    start, served = time.time(), 0
    while True:
        res = wrk(server, "/", args, seconds=3, lua=lua)
        served += res["requests"]
        share = res["jit"] / res["own"] if res["own"] else 1.0
        settled = served >= args.jit_warmup and share < 0.05
        if settled or time.time() - start > args.jit_max_seconds:
            return "%s's JIT: %d requests in %.0f s of load, compiler threads %.0f%% of its CPU in the last run%s" % (
                server.label, served, time.time() - start, share * 100, "" if settled else " (NOT settled)")


def floor(seconds, processes):
    procs = [subprocess.Popen(NOBODY + [PY, "-c", FLOOR, str(seconds)], stdout=subprocess.PIPE, text=True,
                              env={"PATH": "/usr/bin:/bin"}) for _ in range(processes)]
    return sum(float(p.communicate(timeout=seconds + 60)[0]) for p in procs)


def spread(values, fmt):
    med = fmt % statistics.median(values)
    return med if len(values) < 2 else "%s [%s-%s]" % (med, fmt % min(values), fmt % max(values))


def ratios(runs, ref):
    """Kiln/Apache req/s, round by round (the runs of one round are seconds apart)."""
    by_round = {b["round"]: b for b in ref}
    values = [a["rps"] / by_round[a["round"]]["rps"] for a in runs if a["round"] in by_round]
    return spread(values, "%.2fx") if values else "n/a"


def median(runs, key, fmt):
    values = [r[key] for r in runs if r[key] is not None and r["requests"]]
    return fmt % statistics.median(values) if values else "-"


def rps_fmt(values):
    return "%.0f" if statistics.median(values) >= 100 else "%.1f"


def apache_key(wkey):
    return "2" if wkey == "3" else wkey  # preloading is Kiln's: Apache serves (3) as (2)


def print_table(args, configs, results, floors, info, groups):
    print()
    print("wrk -t%d -c%d, %d s per run, %d round%s interleaved, 127.0.0.1; servers and scripts as nobody, %s"
          % (args.threads, args.connections, args.seconds, args.rounds, "" if args.rounds == 1 else "s", PY))
    print(info)
    print("figures: median over rounds [min-max]. CPU per request completed: server = Kiln's JVM or Apache's httpd\n"
          "processes (utime+stime, /proc/<pid>/stat), its JIT = the JVM's C1/C2 compiler threads (included in\n"
          "server; near 0 in a long-running server), scripts = everything else the server started")
    print_rows(configs, results, groups)
    print()
    print_targets(configs, results)
    print()
    print("floor: warm python3 fork + _exit(0) + waitpid in a loop: %s forks/s in 1 process, %s forks/s in 2 processes"
          % (spread(floors[1], "%.0f"), spread(floors[2], "%.0f")))


def print_rows(configs, results, groups):
    apache = configs[-1]
    line = "%-22s %-30s %21s %8s %8s %9s %9s %9s  %s"
    print(line % ("", "", "", "", "", "server", "its JIT", "scripts", ""))
    print(line % ("workload", "server", "req/s", "p50 ms", "p99 ms", "CPU ms/r", "CPU ms/r", "CPU ms/r",
                  "vs Apache req/s"))
    for w in WORKLOADS:
        first = True
        for c in configs:
            if w.key not in c.workloads:
                continue
            name = w.name if first else ""
            first = False
            runs = results.get((c.key, w.key))
            if not runs:
                print("%-22s %-30s %s" % (name, c.label, c.na.get(w.key, "n/a")))
                continue
            ratio = ""
            ref = results.get((apache.key, apache_key(w.key)))
            if c is apache:
                ratio = "1.00x" if w.key != "3" else ""
            elif ref:
                ratio = ratios(runs, ref)
                ratio += " (vs Apache on (2))" if w.key == "3" else ""
            errors = sum(r["errors"] for r in runs)
            rps = [r["rps"] for r in runs]
            # without a cgroup, the scripts mod_cgid's daemon leaves to the kernel to reap are invisible
            scripts = "n/a" if c is apache and not groups.top else median(runs, "scripts", "%.2f")
            print(line % (name, c.label, spread(rps, rps_fmt(rps)), median(runs, "p50", "%.1f"),
                          median(runs, "p99", "%.1f"), median(runs, "own", "%.2f"),
                          median(runs, "jit", "%.2f") if c is not apache else "", scripts,
                          ratio + ("  (%d errors)" % errors if errors else "")))


def print_targets(configs, results):
    apache = configs[-1]
    by_key = {c.key: c for c in configs}
    print("Kiln/Apache req/s against issue 7's targets (classic | fork-server):")
    for w in WORKLOADS:
        cells = []
        columns = [by_key.get("classic"), by_key.get("forkserver")] if w.key != "3" else [None, by_key.get("preload")]
        for c, target in zip(columns, TARGETS[w.key]):
            cells.append("%-22s %-7s" % (ratio_of(c, w, results, apache), target))
        print("  %-22s %s | %s" % (w.name, cells[0], cells[1]))
    hgweb = [w for w in WORKLOADS if w.key == "4"]
    if not hgweb:
        return
    hg = ratio_of(by_key.get("preload-hg"), hgweb[0], results, apache)
    print("  %-22s %-30s | %-22s (Mercurial's modules preloaded)" % ("(4) hg preloaded", "", hg))


def ratio_of(c, w, results, apache):
    runs = results.get((c.key, w.key)) if c else None
    ref = results.get((apache.key, apache_key(w.key)))
    return ratios(runs, ref) if runs and ref else "n/a"


def preflight(args):
    if os.getuid() != 0:
        raise SystemExit("run as root: the benchmark runs servers and scripts as nobody")
    missing = [p for p in ("wrk", "hg", "setpriv", "java") if not shutil.which(p)]
    missing += [p for p in (APACHE2, os.path.join(APACHE_MODULES, "mod_cgid.so"), HGWEB_CGI) if not os.path.exists(p)]
    if missing:
        raise SystemExit("missing: %s; install with: apt-get install -y wrk apache2 mercurial" % ", ".join(missing))
    if not os.path.exists(args.jar):
        raise SystemExit("build first: mvn -q -DskipTests package")


def versions():
    def first(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"
    rev = first(["git", "rev-parse", "--short", "HEAD"])
    return "kiln %s, %s, %s, %s" % (rev, first(["java", "-version"]), first([PY, "--version"]),
                                    first([APACHE2, "-v"]).replace("Server version: ", ""))


def start_all(work, jar, scripts, configs, groups):
    pycache = os.path.join(work, "pycache")
    os.makedirs(pycache)
    chown_nobody(pycache, 0o755)
    kiln_env = ",".join("%s=%s" % kv for kv in HG_ENV.items())
    for c in configs:
        print("starting", c.label, file=sys.stderr)
        if c.extra is None:
            c.server = start_apache(work, scripts, dict(HG_ENV, PYTHONPYCACHEPREFIX=pycache), groups)
            continue
        try:
            c.server = start_kiln(c.key, c.label, work, jar, scripts, kiln_env, c.extra, groups)
        except OptionMissing as e:
            if c.key == "classic":  # a build without --run-mode has one mode: classic
                c.label += " (no --run-mode)"
                c.server = start_kiln(c.key, c.label, work, jar, scripts, kiln_env, [], groups)
            else:
                c.na = {w: "n/a (option missing: %s)" % e for w in c.workloads}
        except StartFailed as e:
            if c.key == "classic":
                raise SystemExit(str(e))
            print(e, file=sys.stderr)
            c.na = {w: "n/a (did not start: see above)" for w in c.workloads}


def warm(configs, args, work):
    """Checks every answer, fills every cache, warms each Kiln's JIT; returns a line per Kiln on its JIT."""
    lua = os.path.join(work, "mix.lua")
    with open(lua, "w") as fh:
        fh.write(MIX_LUA)
    notes = []
    for c in configs:
        if not c.server:
            continue
        for w in WORKLOADS:
            if w.key in c.workloads:
                why = check(c.server, w)  # also fills Kiln's cache, Apache's pycache, hg's repository caches
                if why:
                    c.na[w.key] = "failed: " + why
                    print("%s %s %s; log: %s" % (c.label, w.name, why, c.server.log), file=sys.stderr)
                    continue
                for _ in range(4):
                    c.server.get(w.path)
        if c.extra is not None:
            print("warming %s's JIT" % c.label, file=sys.stderr)
            with alone(configs, c.server):
                note = jit_warmup(c.server, args, lua)
            print(note, file=sys.stderr)
            notes.append(note)
    return notes


def run_rounds(args, configs):
    results, floors = {}, {1: [], 2: []}
    for r in range(args.rounds):
        for i, w in enumerate(WORKLOADS):
            shift = (r + i) % len(configs)
            for c in configs[shift:] + configs[:shift]:
                if not c.server or w.key not in c.workloads or w.key in c.na:
                    continue
                if c.server.proc.poll() is not None:
                    c.na[w.key] = "failed: the server exited (%s)" % c.server.log
                    continue
                with alone(configs, c.server):
                    res = dict(wrk(c.server, w.path, args), round=r)
                results.setdefault((c.key, w.key), []).append(res)
                print("round %d/%d %-22s %-30s %8.1f req/s %s ms server CPU/req"
                      % (r + 1, args.rounds, w.name, c.label, res["rps"], median([res], "own", "%.2f")),
                      file=sys.stderr)
        with alone(configs, None):
            for n in (1, 2):
                floors[n].append(floor(args.floor_seconds, n))
    return results, floors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=8, help="length of each wrk run (default 8)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    ap.add_argument("--connections", type=int, default=8, help="wrk -c (default 8)")
    ap.add_argument("--jit-warmup", type=int, default=1500,
                    help="least requests warming each Kiln's JIT, then on until the JIT settles (default 1500)")
    ap.add_argument("--jit-max-seconds", type=float, default=150,
                    help="longest JIT warm-up per Kiln (default 150: C2 goes on compiling Kiln's paths for a minute "
                         "or two of load)")
    ap.add_argument("--floor-seconds", type=float, default=2.0, help="length of each fork-loop run (default 2)")
    ap.add_argument("--cpu-shares", type=int, default=1024,
                    help="CPU weight of each server's cgroup (default 1024, one session's; more shields the figures "
                         "from other load on the machine, at its expense)")
    ap.add_argument("--jar", default="target/kiln.jar")
    ap.add_argument("--workloads", default="1,2,3,4,5",
                    help="which workloads to run, comma-separated (default 1,2,3,4,5)")
    args = ap.parse_args()
    chosen = set(args.workloads.split(","))
    WORKLOADS[:] = [w for w in WORKLOADS if w.key in chosen]
    if not WORKLOADS:
        raise SystemExit("--workloads: none of 1,2,3,4,5 chosen")
    preflight(args)

    def stop(signum, frame):
        raise KeyboardInterrupt
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, stop)
    configs = [
        Config("classic", "Kiln classic", ["--run-mode", "classic"], {"1", "2", "4", "5"}),
        Config("forkserver", "Kiln fork-server", ["--run-mode", "forkserver"], {"1", "2", "4", "5"}),
        Config("preload", "Kiln fork-server +preload",
               ["--run-mode", "forkserver", "--preload", ",".join(APP_MODULES)], {"3"}),
        Config("preload-hg", "Kiln fork-server +preload hg",
               ["--run-mode", "forkserver", "--preload", ",".join(DEFAULT_PRELOAD + HG_MODULES)], {"4"}),
        # (5) started from the JVM, with the setsid exec that the exec fork-server saves
        Config("noexecserver", "Kiln classic, exec-server off", ["--run-mode", "classic", "--exec-server", "false"],
               {"5"}),
        Config("apache", "Apache event+cgid", None, {"1", "2", "4", "5"}),
    ]
    for c in configs:
        c.workloads &= chosen
    configs = [c for c in configs if c.workloads]
    groups = CpuGroups(args.cpu_shares)
    work = tempfile.mkdtemp(prefix="kiln-runmode-")
    os.chmod(work, 0o755)
    try:
        jar = os.path.join(work, "kiln.jar")
        shutil.copy(args.jar, jar)
        os.chmod(jar, 0o644)
        info = [versions() + "; " + groups.kind]
        scripts = make_scripts(work)
        start_all(work, jar, scripts, configs, groups)
        info += warm(configs, args, work)
        load_before = os.getloadavg()[0]
        results, floors = run_rounds(args, configs)
        info.append("load average (1 min) %.1f before the rounds, %.1f after" % (load_before, os.getloadavg()[0]))
        print_table(args, configs, results, floors, "\n".join(info), groups)
    except KeyboardInterrupt:
        print("interrupted: stopping servers, removing " + work, file=sys.stderr)
        sys.exit(130)
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        for c in configs:
            if c.server:
                c.server.stop()
        try:
            groups.remove()
        except OSError as e:
            print("could not remove a cgroup: %s" % e, file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
