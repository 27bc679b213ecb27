"""The servers runmode_bench.py compares, each in its own session so it can be stopped as a whole, and the
CPU they use: Kiln (the real jar, as nobody) and Apache httpd 2.4 (event MPM + mod_cgid).

A server's own CPU comes from /proc/<pid>/stat (utime+stime). Its scripts' CPU needs a cgroup: mod_cgid's
daemon ignores SIGCHLD, so the kernel reaps its children and their CPU reaches no parent's cutime. Each server
runs in a private cgroup where the machine allows one, else the CPU is summed over its /proc tree (reaped
children included, auto-reaped ones lost)."""
import http.client
import os
import re
import signal
import subprocess
import time

from cache_bench import NOBODY, PY, free_port

TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")
APACHE_MODULES = "/usr/lib/apache2/modules"
APACHE2 = "/usr/sbin/apache2"


class StartFailed(Exception):
    """Kiln exited before serving."""


class OptionMissing(StartFailed):
    """Kiln refused a flag it does not know yet (a usage error, exit code 2)."""


def proc_stat(pid):
    """(ppid, comm, utime+stime, cutime+cstime, starttime) in clock ticks, or None when the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            s = fh.read()
    except OSError:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    f = s[s.rindex(")") + 2:].split()  # f[n - 3] is field n of proc(5)
    return int(f[1]), comm, int(f[11]) + int(f[12]), int(f[13]) + int(f[14]), int(f[19])


def tree(root):
    """Every live process descending from root (root included): pid -> proc_stat."""
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                stats[int(name)] = st
    children = {}
    for pid, st in stats.items():
        children.setdefault(st[0], []).append(pid)
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in out:
            out[pid] = stats[pid]
            todo += children.get(pid, [])
    return out


def cgroup_mounts():
    """[(mount point, usage file or None)]: cgroup v1 hierarchies with cpu or cpuacct, else a v2 hierarchy."""
    v1, v2 = [], []
    with open("/proc/mounts") as fh:
        for line in fh:
            _, where, kind, opts = line.split()[:4]
            opts = opts.split(",")
            if kind == "cgroup" and ("cpu" in opts or "cpuacct" in opts):
                v1.append((where, "cpuacct.usage" if "cpuacct" in opts else None))
            elif kind == "cgroup2":
                v2.append((where, "cpu.stat"))
    return v1 or v2[:1]


class CpuGroups:
    """One private cgroup per server, under one folder of this run, where the machine allows it.

    Besides counting the CPU of every process a server starts, a cgroup gives each server one CPU share: with
    the scheduler's autogroups (one per session, on where no cgroup is set), a server that starts each script
    in its own session, as Kiln does, would get a whole session's share per script against the machine's other
    load, and a server whose scripts share its session, as Apache's do, one share for all of them."""

    def __init__(self, shares=1024):
        self.shares = shares  # cgroup v1 cpu.shares (1024: one session's); v2 cpu.weight gets shares * 100 / 1024
        self.top = []
        for where, usage in cgroup_mounts():
            path = os.path.join(where, "kiln-bench-%d" % os.getpid())
            try:
                os.mkdir(path)
            except OSError:
                continue
            self.top.append((path, usage))
        if not any(usage for _, usage in self.top):
            self.remove()
            self.top = []
        self.kind = ("cgroup per server (%s)" % ", ".join(os.path.dirname(p) for p, _ in self.top) if self.top
                     else "/proc tree (no cgroup could be made)")

    def create(self, name):
        """[(cgroup folder, usage file or None)] for a new server, or [] without cgroups."""
        out = []
        for top, usage in self.top:
            folder = os.path.join(top, name)
            os.makedirs(folder, exist_ok=True)
            for knob, value in (("cpu.shares", self.shares), ("cpu.weight", max(1, self.shares * 100 // 1024))):
                if os.path.exists(os.path.join(folder, knob)):
                    with open(os.path.join(folder, knob), "w") as fh:
                        fh.write(str(value))
            out.append((folder, usage))
        return out

    @staticmethod
    def usage_ms(group):
        folder, usage = next(g for g in group if g[1])
        with open(os.path.join(folder, usage)) as fh:
            text = fh.read()
        if usage == "cpu.stat":
            return int(re.search(r"usage_usec (\d+)", text).group(1)) / 1000.0
        return int(text) / 1e6

    def remove(self):
        """Once every server has stopped: any straggler killed, then the folders."""
        for top, _ in self.top:
            for name in os.listdir(top):
                group = os.path.join(top, name)
                if not os.path.isdir(group):
                    continue
                with open(os.path.join(group, "cgroup.procs")) as fh:
                    for pid in fh.read().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                for _ in range(50):
                    try:
                        os.rmdir(group)
                        break
                    except OSError:
                        time.sleep(0.1)
            os.rmdir(top)


def joiner(group):
    """A preexec_fn putting the new process (and so all it starts) into group, or None."""
    if not group:
        return None

    def join():
        for folder, _ in group:
            with open(os.path.join(folder, "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))
    return join


class Server:
    """A started server: its port, its root process, the log it writes, how to read its CPU and stop it."""

    def __init__(self, label, proc, port, log, own, cpu):
        self.label, self.proc, self.port, self.log = label, proc, port, log
        self.own = own  # (pid, comm) -> whether the process is the server itself rather than a script
        self.cpu = cpu  # () -> the CPU of the server and all its scripts so far (ms), or None: the /proc tree

    def cpu_ms(self):
        """(the server's own CPU, its own and its scripts' CPU) so far, in ms."""
        own = total = 0
        for pid, (_, comm, mine, reaped, _) in tree(self.proc.pid).items():
            own += mine if self.own(pid, comm) else 0
            total += mine + reaped  # a live process's CPU is in no parent's cutime yet: no double count
        return own * TICK_MS, self.cpu() if self.cpu else total * TICK_MS

    def jit_ms(self):
        """CPU of the root process's JIT compiler threads so far (a JVM's C1 and C2; 0 for Apache), in ms."""
        total = 0
        for tid in os.listdir("/proc/%d/task" % self.proc.pid):
            try:
                with open("/proc/%d/task/%s/stat" % (self.proc.pid, tid)) as fh:
                    st = fh.read()
            except OSError:
                continue
            if re.search(r"\(C[12] CompilerThre", st):
                f = st[st.rindex(")") + 2:].split()
                total += int(f[11]) + int(f[12])
        return total * TICK_MS

    def get(self, path, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def log_tail(self, n=2000):
        try:
            with open(self.log, "rb") as fh:
                return fh.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def pause(self, paused):
        """SIGSTOP (or SIGCONT) to the server's session: an idle server's JIT and timers then take no CPU from the
        one being measured (its fork-servers are sessions of their own, idle meanwhile)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGSTOP if paused else signal.SIGCONT)
            except ProcessLookupError:
                pass

    def stop(self):
        """SIGTERM to the server's session, SIGKILL after 20 s, then SIGKILL to any descendant left behind."""
        left = {pid: st[4] for pid, st in tree(self.proc.pid).items()}
        self.pause(False)
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        for pid, start in left.items():
            st = proc_stat(pid)
            if st and st[4] == start:  # the same process, not a new one that reused the pid
                os.kill(pid, signal.SIGKILL)

    def wait_ready(self, path, deadline_s):
        deadline = time.time() + deadline_s
        while True:
            if self.proc.poll() is not None:
                return False
            try:
                self.get(path, timeout=5)
                return True
            except OSError:
                if time.time() > deadline:
                    self.stop()
                    raise SystemExit("%s did not answer within %d s; its log:\n%s"
                                     % (self.label, deadline_s, self.log_tail()))
                time.sleep(0.2)


def chown_nobody(path, mode=None):
    subprocess.run(["chown", "-R", "nobody:nogroup", path], check=True)
    if mode is not None:
        os.chmod(path, mode)


def start_kiln(name, label, work, jar, scripts, env_for_scripts, extra, groups):
    """Kiln as nobody on a free loopback port with a private cache; its log (stdout and stderr) to a file."""
    cache = os.path.join(work, "cache-" + name)
    home = os.path.join(work, "home-" + name)
    for d in (cache, home):
        os.makedirs(d, exist_ok=True)  # a second start after an option was refused reuses them
        chown_nobody(d, 0o700)
    port = free_port()
    log = os.path.join(work, "kiln-%s.log" % name)
    cmd = NOBODY + ["java", "-jar", jar, "--port", str(port), "--bind", "127.0.0.1", "--scripts", scripts,
                    "--cache", cache, "--python", PY, "--env", env_for_scripts] + extra
    group = groups.create(name)
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, env={"PATH": "/usr/bin:/bin", "HOME": home}, cwd=home, stdin=subprocess.DEVNULL,
                                stdout=fh, stderr=fh, start_new_session=True, preexec_fn=joiner(group))
    server = Server(label, proc, port, log, lambda pid, comm: pid == proc.pid,
                    (lambda: CpuGroups.usage_ms(group)) if group else None)
    if not server.wait_ready("/kiln/status", 90):
        text = server.log_tail()
        for flag in (a for a in extra if a.startswith("--")):
            if proc.returncode == 2 and ("unknown option '%s'" % flag) in text:
                raise OptionMissing(flag)
        raise StartFailed("%s exited with %s before serving; its log:\n%s" % (label, proc.returncode, text))
    return server


APACHE_CONF = """\
ServerRoot "{root}"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
PidFile "{root}/run/httpd.pid"
DefaultRuntimeDir "{root}/run"
Mutex file:{root}/run default
ScriptSock "{root}/run/cgid.sock"
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule alias_module {mods}/mod_alias.so
LoadModule env_module {mods}/mod_env.so
LoadModule cgid_module {mods}/mod_cgid.so
User nobody
Group nogroup
ErrorLog "{root}/logs/error.log"
LogLevel warn
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog "{root}/logs/access.log" common
KeepAlive On
MaxKeepAliveRequests 0
Timeout 60
<Directory />
    AllowOverride None
    Require all denied
</Directory>
# PATH_TRANSLATED maps PATH_INFO here: an empty folder, so that lookup logs no "client denied" per request
DocumentRoot "{root}/htdocs"
<Directory "{root}/htdocs">
    Require all granted
</Directory>
ScriptAlias /cgi-bin/ "{scripts}/"
<Directory "{scripts}">
    Options +ExecCGI
    Require all granted
</Directory>
{setenv}
"""


def start_apache(work, scripts, env_for_scripts, groups):
    """Apache httpd 2.4 from apt in a private ServerRoot: event MPM, mod_cgid, scripts as nobody."""
    root = os.path.join(work, "apache")
    for d in ("run", "logs", "conf", "htdocs"):
        os.makedirs(os.path.join(root, d))
    os.chmod(root, 0o755)
    os.chmod(os.path.join(root, "run"), 0o755)  # workers (nobody) connect to the cgid socket in it
    port = free_port()
    setenv = "\n".join('SetEnv %s "%s"' % kv for kv in env_for_scripts.items())
    conf = os.path.join(root, "conf", "httpd.conf")
    with open(conf, "w") as fh:
        fh.write(APACHE_CONF.format(root=root, port=port, mods=APACHE_MODULES, scripts=scripts, setenv=setenv))
    cmd = [APACHE2, "-d", root, "-f", conf]
    env = {"PATH": "/usr/bin:/bin"}  # no LANG, as Kiln: Debian's envvars would set LANG=C
    check = subprocess.run(cmd + ["-t"], env=env, capture_output=True, timeout=30)
    if check.returncode != 0:
        raise SystemExit("apache2 -t rejects the generated %s:\n%s" % (conf, check.stderr.decode()))
    log = os.path.join(root, "logs", "console.log")
    group = groups.create("apache")
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd + ["-DFOREGROUND"], env=env, stdin=subprocess.DEVNULL, stdout=fh, stderr=fh,
                                start_new_session=True, preexec_fn=joiner(group))
    server = Server("Apache event+cgid", proc, port, log, lambda pid, comm: comm == "apache2",
                    (lambda: CpuGroups.usage_ms(group)) if group else None)
    server.log = os.path.join(root, "logs", "error.log")
    if not server.wait_ready("/", 30):
        raise SystemExit("apache2 exited with %s; its error log:\n%s" % (proc.returncode, server.log_tail()))
    return server

