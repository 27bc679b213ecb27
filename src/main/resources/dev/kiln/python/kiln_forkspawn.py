# Exec without a fork (the request word "spawn", kiln_forkserver.py): the
# fork-server starts a script that is not Python with posix_spawn, which glibc
# does as a vfork. No copy of the fork-server's page tables, no copy-on-write
# faults, no Python code in a child: a #!/bin/sh hello costs the fork-server
# about a quarter of what fork-and-exec did (bench/runmode_bench.py).
#
# Kiln sends "spawn" only for a request that needs nothing a child must do
# for itself between fork and exec: no user switch, no request cgroup (those
# go as "exec", kiln_forkchild.become). What become() does for exec is done
# here around the spawn, which the single-threaded fork-server can do to
# itself for a moment: the working folder (checked, as _exec checks it), the
# rlimits' soft values (the child has them from its first instruction; the
# hard values and the CPU limit, which counts the child's CPU from its start
# whenever it is set, follow with prlimit before posix_spawn's caller goes
# on). posix_spawn gives the child a session of its own, an empty signal mask
# and default dispositions; every fd of the fork-server but 0-2 is
# close-on-exec (PEP 446), and those three are the request's sockets.
# What a spawned child cannot have: being a subreaper (see kiln_forkreap).
#
# spawn() returns None when the fork path must start the request instead: it
# then fails as a forked child fails, with the same message and exit code.

import os
import stat

import resource

import kiln_confine
import kiln_forkchild

# Not RLIMIT_CPU: lowered on the fork-server, it would count the fork-server's own CPU.
_SOFT_FIRST = frozenset((resource.RLIMIT_DATA, resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE, resource.RLIMIT_CORE))
_POSIX_SPAWN = getattr(os, 'posix_spawn', None)       # Python 3.8+ on Linux
_home = os.open('.', os.O_RDONLY | os.O_DIRECTORY)     # the fork-server's own working folder, to come back to


def spawn(request, env, io_fd, out_fd):
    # Starts the request's command with io_fd as its stdin and stderr, out_fd as its stdout; returns its pid.
    uid, gid, groups, run, cwd, argv = request
    if uid >= 0 or gid >= 0 or b'KILN_CGROUP' in env or _POSIX_SPAWN is None:
        return None
    limits = _parse(env.get(b'KILN_RLIMITS'))
    if limits is None:
        return None
    try:
        os.chdir(cwd)
    except OSError:
        return None
    try:
        if os.getcwdb() != cwd:
            return None         # moved or replaced since Kiln checked it: _exec says so
        try:
            if os.stat(argv[0]).st_mode & (stat.S_ISUID | stat.S_ISGID):
                return None     # set-user-ID: not ours to prlimit once it runs
        except OSError:
            return None         # the forked child's execve names the cause
        for fd in (io_fd, out_fd):
            os.set_blocking(fd, True)
        child_env = {k: v for k, v in env.items() if k != b'KILN_RLIMITS'}
        restore = _lower_soft(limits)
        try:
            # what Python ignored at start-up stays ignored across exec: default again
            pid = _POSIX_SPAWN(argv[0], argv, child_env, setsid=True, setsigmask=(),
                               setsigdef=kiln_forkchild.PYTHON_IGNORED,
                               file_actions=[(os.POSIX_SPAWN_DUP2, io_fd, 0), (os.POSIX_SPAWN_DUP2, out_fd, 1),
                                             (os.POSIX_SPAWN_DUP2, io_fd, 2)])
        except OSError:
            return None         # cannot be run: the forked child's execve reports it
        finally:
            for res, old in restore:
                resource.setrlimit(res, old)
    finally:
        os.fchdir(_home)
    for res, value in limits:
        try:
            resource.prlimit(pid, res, value)
        except OSError:
            pass                # already gone (a zombie): it never ran beyond its soft limits
    return pid


def _parse(value):
    # The request's rlimits (kiln_confine.rlimits); None when one is above the fork-server's own hard limit,
    # which only a forked child (still allowed to try) can report.
    limits = kiln_confine.rlimits(value)
    for res, (_, hard) in limits:
        own = resource.getrlimit(res)[1]
        if own != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or hard > own):
            return None
    return limits


def _lower_soft(limits):
    # The fork-server's soft limits set to the child's for the spawn; returns what to set back.
    restore = []
    for res, (soft, _) in limits:
        if res in _SOFT_FIRST:
            old = resource.getrlimit(res)
            if old[1] == resource.RLIM_INFINITY or soft <= old[1]:
                resource.setrlimit(res, (soft, old[1]))
                restore.append((res, old))
    return restore
