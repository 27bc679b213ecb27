#!/usr/bin/env python3
"""Kiln's cache benchmark: per-request latency of one import-heavy CGI script, three ways, in one run.

  (a) Kiln, warm shared cache           GET http://127.0.0.1:PORT/cgi-bin/app.py (persistent connection)
  (b) python3 app.py, writable __pycache__  the best Apache mod_cgi can do: imports cached, entry recompiled
  (c) python3 app.py, unwritable folder     the seed note's case: everything recompiled on every request

The entry script has ~500 lines and imports ~10,000 lines of local modules. Everything runs as user nobody
with Debian's /usr/bin/python3 and a clean environment, one request at a time.
Usage (as root, from the repository root, after `mvn -q -DskipTests package`):
    python3 bench/cache_bench.py [--requests N]
"""
import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

PY = "/usr/bin/python3"
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def generate(folder, modules=10, module_lines=1000, entry_lines=500):
    os.makedirs(folder)
    total = 0
    for m in range(modules):
        lines = ['"""Generated module %d."""' % m, "import re", ""]
        f = 0
        while len(lines) < module_lines - 8:
            lines += [
                "def func_%d(x, y=%d):" % (f, f),
                "    values = [i * y for i in range(x) if i %% %d]" % (f % 7 + 2),
                "    table = {str(v): v for v in values}",
                "    return sum(table.values()) + len(re.findall(r'\\d', str(values)))",
                "",
            ]
            f += 1
        lines += ["class Widget%d:" % m, "    def __init__(self):", "        self.n = %d" % m, "",
                  "VALUE = %d" % m, ""]
        total += len(lines)
        with open(os.path.join(folder, "mod%02d.py" % m), "w") as fh:
            fh.write("\n".join(lines) + "\n")
    entry = ["#!/usr/bin/python3", "import sys"] + ["import mod%02d" % m for m in range(modules)] + [""]
    f = 0
    while len(entry) < entry_lines - 6:
        entry += ["def page_%d(n):" % f, "    return ''.join('<li>%%d</li>' %% i for i in range(n %% %d))" % (f % 5 + 2), ""]
        f += 1
    entry += ["total = sum(sys.modules['mod%%02d' %% m].VALUE for m in range(%d))" % modules,
              "print('Content-Type: text/plain')", "print()", "print('total', total)"]
    with open(os.path.join(folder, "app.py"), "w") as fh:
        fh.write("\n".join(entry) + "\n")
    return total, len(entry)


def cgi_env():
    return {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
            "QUERY_STRING": "", "SCRIPT_NAME": "/cgi-bin/app.py", "SERVER_PROTOCOL": "HTTP/1.1"}


def run_plain(folder):
    """One request the way mod_cgi makes it: a new interpreter for the script."""
    r = subprocess.run(NOBODY + [PY, os.path.join(folder, "app.py")], env=cgi_env(), cwd=folder,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0 and b"total 45" in r.stdout, r.stderr.decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Kiln:
    """The real jar, as nobody, on a free port; requests over one persistent connection."""

    def __init__(self, jar, folder, cache):
        self.port = free_port()
        env = {"PATH": "/usr/bin:/bin", "HOME": cache}
        # Kiln logs to stderr (one access line per request): a file, so a full pipe never blocks it
        self.log = open(os.path.join(os.path.dirname(jar), "kiln.log"), "w+")
        self.proc = subprocess.Popen(NOBODY + ["java", "-jar", jar, "--port", str(self.port), "--bind", "127.0.0.1",
                                               "--scripts", folder, "--cache", cache, "--python", PY],
                                     env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 60
        while True:
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request("GET", "/kiln/status")
                self.conn.getresponse().read()
                return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.log.seek(0)
                    raise SystemExit("kiln did not start: " + self.log.read())
                time.sleep(0.2)

    def request(self, path="/cgi-bin/app.py", expect=b"total 45"):
        self.conn.request("GET", path)
        body = self.conn.getresponse().read()
        assert expect in body, body

    def close(self):
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def row(name, samples, ref):
    med = statistics.median(samples) * 1000
    p90 = statistics.quantiles(samples, n=10)[-1] * 1000
    return "%-44s %8.1f ms %8.1f ms %8.2fx" % (name, med, p90, med / (ref * 1000))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--jar", default="target/kiln.jar")
    ap.add_argument("--jit-warmup", type=int, default=1500,
                    help="requests to a tiny script before timing, so Kiln's JVM is warm (default 1500)")
    args = ap.parse_args()
    if os.getuid() != 0:
        raise SystemExit("run as root: the benchmark switches to user nobody")
    jar = os.path.abspath(args.jar)
    if not os.path.exists(jar):
        raise SystemExit("build first: mvn -q -DskipTests package")
    work = tempfile.mkdtemp(prefix="kiln-bench-")
    os.chmod(work, 0o755)
    try:
        shutil.copy(jar, os.path.join(work, "kiln.jar"))
        os.chmod(os.path.join(work, "kiln.jar"), 0o644)
        writable = os.path.join(work, "writable")
        locked = os.path.join(work, "locked")
        served = os.path.join(work, "served")
        cache = os.path.join(work, "cache")
        lines, entry = generate(writable)
        shutil.copytree(writable, locked)
        shutil.copytree(writable, served)
        with open(os.path.join(served, "warm.sh"), "w") as fh:
            fh.write("#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nwarm\\n'\n")
        os.chmod(os.path.join(served, "warm.sh"), 0o755)
        os.makedirs(cache)
        for d in (writable, cache):
            subprocess.run(["chown", "-R", "nobody:nogroup", d], check=True)
        os.chmod(cache, 0o700)
        n = args.requests
        print("entry script %d lines, %d lines of local modules, %d requests each, one at a time, as nobody, %s"
              % (entry, lines, n, PY))
        kiln = Kiln(os.path.join(work, "kiln.jar"), served, cache)
        try:
            first = timed(kiln.request)  # Kiln's first request compiles everything once
            # A server runs for long: let the JIT compile Kiln's request path before timing it (steady state).
            for _ in range(args.jit_warmup):
                kiln.request("/cgi-bin/warm.sh", b"warm")
            ways = {"a": kiln.request, "b": lambda: run_plain(writable), "c": lambda: run_plain(locked)}
            for _ in range(20):  # warm-up: the writable __pycache__, the JVM's JIT
                for fn in ways.values():
                    fn()
            samples = {k: [] for k in ways}
            # interleaved, so drift in the machine's load hits all three alike
            for i in range(n):
                for k in ("abc", "bca", "cab")[i % 3]:
                    samples[k].append(timed(ways[k]))
        finally:
            kiln.close()
        a, b, c = samples["a"], samples["b"], samples["c"]
        ref = statistics.median(a)
        print("%-44s %11s %11s %9s" % ("", "median", "p90", "vs Kiln"))
        print(row("(a) Kiln, warm shared cache", a, ref))
        print(row("(b) python3 app.py, writable __pycache__", b, ref))
        print(row("(c) python3 app.py, unwritable __pycache__", c, ref))
        compile_cost = statistics.median(c) - statistics.median(b)
        print("compile cost of the imports (c - b): %.1f ms; Kiln is faster than (c) by %.1f ms and than (b) by %.1f ms; "
              "Kiln's first (compiling) request took %.1f ms"
              % (compile_cost * 1000, (statistics.median(c) - ref) * 1000, (statistics.median(b) - ref) * 1000,
                 first * 1000))
        leaked = [d for d in (served,) for r, ds, fs in os.walk(d) if "__pycache__" in ds]
        print("__pycache__ in Kiln's scripts folder:", "yes (BUG)" if leaked else "none")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
