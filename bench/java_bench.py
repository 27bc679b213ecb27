#!/usr/bin/env python3
"""Kiln's Java-script benchmark: per-request latency of Java CGI scripts through a running Kiln, three ways.

  (a) Kiln, cached jar + start-up cache   java -XX:AOTCache=... (JDK 25) / -XX:SharedArchiveFile=... (JDK 17)
  (b) Kiln, cached jar only               the same Kiln with --java-startup-cache false
  (c) java Hello.java through Kiln        a #!/bin/sh wrapper that execs `java Hello.java`: what a user gets
                                          from the source launcher (JEP 330), compiling on every request

for two scripts, a hello world and a program whose entry uses a few hundred lines of helper classes in sibling
files (JEP 458), on JDK 25 and on JDK 17 (whose source launcher cannot read sibling files: its (c) runs the same
classes pasted into one file). Also the first request of a script this running Kiln has not compiled yet (javac
in a child process, with the class archive Kiln made of javac after its first compile, the jar, the run)
against (c). Requests go one at a time over one persistent connection, the ways
interleaved request by request so that machine noise hits them alike.
Usage (from the repository root, after `mvn -q -DskipTests package`):
    python3 bench/java_bench.py [--requests N] [--first N]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

JDKS = {"25": "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java", "17": "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"}
TARGETS = {"25": 15.0, "17": 8.0}
HEAD = 'System.out.print("Content-Type: text/plain\\r\\n\\r\\n");'

HELLO = """public class Hello {
    public static void main(String[] args) {
        %s
        System.out.println("Hello, world! " + System.getenv("QUERY_STRING"));
    }
}
""" % HEAD


def helper_classes(n=6, methods=12):
    """n helper classes of ~60 lines each: parsing, formatting, a small model."""
    classes = []
    for c in range(n):
        body = []
        for m in range(methods):
            body += [
                "    static String part%d(String s, int k) {" % m,
                "        StringBuilder b = new StringBuilder();",
                "        for (int i = 0; i < s.length(); i++) {",
                "            char ch = s.charAt(i);",
                "            b.append(i %% %d == k %% %d ? Character.toUpperCase(ch) : ch);" % (m + 2, m + 2),
                "        }",
                "        return b.append('-').append(k * %d).toString();" % (c + 1),
                "    }",
            ]
        body += ["    static String all(String s) {", "        String r = s;"]
        body += ["        r = part%d(r, %d);" % (m, m) for m in range(0, methods, 3)]
        body += ["        return r;", "    }"]
        classes.append(("Helper%d" % c, body))
    return classes


def multi_files(folder):
    classes = helper_classes()
    lines = 0
    for name, body in classes:
        text = "class %s {\n%s\n}\n" % (name, "\n".join(body))
        lines += text.count("\n")
        with open(os.path.join(folder, name + ".java"), "w") as f:
            f.write(text)
    calls = " + ".join('Helper%d.all("kiln")' % c for c in range(len(classes)))
    entry = "public class Multi {\n    public static void main(String[] args) {\n        %s\n" \
            "        System.out.println(%s);\n    }\n}\n" % (HEAD, calls)
    with open(os.path.join(folder, "Multi.java"), "w") as f:
        f.write(entry)
    # one file with the same classes, for a source launcher that reads only one file (JDK 17)
    single = entry + "".join("class %s {\n%s\n}\n" % (name, "\n".join(body)) for name, body in classes)
    os.makedirs(os.path.join(folder, "single"))
    with open(os.path.join(folder, "single", "Multi.java"), "w") as f:
        f.write(single)
    return lines


def write_exec(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def scripts_folder(root, java, feature):
    """hello/ and multi/, each with its program and a sh wrapper running it as `java X.java`."""
    os.makedirs(root)
    hello = os.path.join(root, "hello")
    os.makedirs(hello)
    with open(os.path.join(hello, "Hello.java"), "w") as f:
        f.write(HELLO)
    write_exec(os.path.join(hello, "source.sh"), "#!/bin/sh\nexec %s Hello.java\n" % java)
    multi = os.path.join(root, "multi")
    os.makedirs(multi)
    helper_lines = multi_files(multi)
    src = "Multi.java" if int(feature) >= 22 else "single/Multi.java"
    write_exec(os.path.join(multi, "source.sh"), "#!/bin/sh\nexec %s %s\n" % (java, src))
    write_exec(os.path.join(root, "warm.sh"), "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n")
    return helper_lines


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Kiln:
    def __init__(self, jar, scripts, cache, java, log, *extra):
        self.port = free_port()
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": os.path.dirname(cache)}
        self.log = open(log, "w")
        self.proc = subprocess.Popen(["/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "-jar", jar,
                                      "--scripts", scripts, "--cache", cache, "--java", java, "--port",
                                      str(self.port), "--bind", "127.0.0.1", "--access-log", "false",
                                      "--max-concurrent", "4"] + list(extra),
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self.get("/kiln/status")
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("Kiln did not start, see " + log)

    def get(self, path):
        try:
            return self.timed(path)
        except (http.client.RemoteDisconnected, ConnectionError):
            # Jetty closed the connection while it was idle (the request never reached a script): reopen, again
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            return self.timed(path)

    def timed(self, path):
        start = time.perf_counter()
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        body = r.read()
        elapsed = (time.perf_counter() - start) * 1000
        if r.status != 200:
            raise SystemExit("%s answered %d: %s" % (path, r.status, body[:300]))
        return elapsed, body

    def status(self):
        return json.loads(self.get("/kiln/status")[1])

    def close(self):
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def wait_for_caches(kiln, scripts, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        states = [kiln.status()["javaScripts"].get(s, {}).get("aot") for s in scripts]
        if all(s == "ready" for s in states):
            return
        if any(s and s.startswith(("failed", "unsupported")) for s in states):
            raise SystemExit("start-up cache not built: %s" % states)
        time.sleep(0.5)
    raise SystemExit("start-up caches not ready after %d s" % timeout)


def stats(samples):
    s = sorted(samples)
    return statistics.median(s), s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]


def bench_jdk(jar, work, feature, java, requests, firsts):
    root = os.path.join(work, "jdk" + feature)
    scripts = os.path.join(root, "cgi-bin")
    helper_lines = scripts_folder(scripts, java, feature)
    a = Kiln(jar, scripts, os.path.join(root, "cache-a"), java, os.path.join(root, "kiln-a.log"))
    b = Kiln(jar, scripts, os.path.join(root, "cache-b"), java, os.path.join(root, "kiln-b.log"),
             "--java-startup-cache", "false")
    rows = []
    try:
        for k in (a, b):
            for _ in range(200):
                k.get("/cgi-bin/warm.sh")  # Kiln's own JIT settles before anything is timed
        names = {"hello": "hello/Hello.java", "multi": "multi/Multi.java"}
        for k in (a, b):
            for n in names.values():
                k.get("/cgi-bin/" + n)
                k.get("/cgi-bin/" + n)
        wait_for_caches(a, names.values())
        for label, script in names.items():
            times = {"a": [], "b": [], "c": []}
            a.get("/cgi-bin/%s/source.sh" % label)
            for _ in range(requests):
                times["a"].append(a.get("/cgi-bin/" + script)[0])
                times["b"].append(b.get("/cgi-bin/" + script)[0])
                times["c"].append(a.get("/cgi-bin/%s/source.sh" % label)[0])
            first = []
            for i in range(firsts):
                copy = "%s-first%d/%s" % (label, i, os.path.basename(script))
                shutil.copytree(os.path.join(scripts, label), os.path.dirname(os.path.join(scripts, copy)),
                                ignore=shutil.ignore_patterns("single"))
                first.append(a.get("/cgi-bin/" + copy)[0])
                wait_for_caches(a, [copy])  # its training run ends before anything else is timed
            rows.append((label, {w: stats(t) for w, t in times.items()}, statistics.median(first)))
    finally:
        a.close()
        b.close()
    return rows, helper_lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=20, help="timed requests per way and script (default 20)")
    ap.add_argument("--first", type=int, default=3, help="first requests timed per script (default 3)")
    args = ap.parse_args()
    jar = os.path.abspath("target/kiln.jar")
    if not os.path.isfile(jar):
        raise SystemExit("build first: mvn -q -DskipTests package")
    work = tempfile.mkdtemp(prefix="kiln-java-bench-")
    os.chmod(work, 0o755)  # run as root, Kiln runs scripts as nobody, who must reach the scripts and the cache
    print("Kiln %s, %d requests per way, one at a time; work folder %s" % (jar, args.requests, work))
    ok = True
    try:
        for feature, java in JDKS.items():
            if not os.access(java, os.X_OK):
                print("JDK %s: not installed at %s, skipped" % (feature, java))
                continue
            rows, helper_lines = bench_jdk(jar, work, feature, java, args.requests, args.first)
            print("\nJDK %s (%s); multi = entry + %d lines of helper classes in 6 sibling files%s" % (
                feature, java, helper_lines, "" if int(feature) >= 22 else
                " ((c) runs them pasted into one file: JDK 17's source launcher reads one file)"))
            print("%-6s %-26s %-26s %-26s %8s %8s %14s" % ("script", "(a) jar + start-up cache",
                                                         "(b) jar only", "(c) java X.java", "c/a", "c/b",
                                                         "first vs (c)"))
            for label, s, first in rows:
                ratio_a = s["c"][0] / s["a"][0]
                ratio_b = s["c"][0] / s["b"][0]
                cell = lambda w: "%7.1f ms (p90 %7.1f)" % s[w]
                print("%-6s %-26s %-26s %-26s %7.1fx %7.1fx %6.0f ms %+4.0f%%" % (
                    label, cell("a"), cell("b"), cell("c"), ratio_a, ratio_b, first,
                    100 * (first / s["c"][0] - 1)))
                hit = ratio_a >= TARGETS[feature] and first <= 1.2 * s["c"][0]
                ok = ok and hit
                print("       target (a) >= %.0fx faster than (c) and first <= (c) + 20%%: %s" % (
                    TARGETS[feature], "met" if hit else "NOT met"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
