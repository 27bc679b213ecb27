# The request's confinement, as a fork-server's child takes it on after the
# fork, before the script (kiln_forkchild.become): the request cgroup, joined
# while still Kiln's user; the script user's identity, with no privilege
# left; the request's rlimits. Kept small and in one place: what stands
# between a script and Kiln's own rights (privilege separation).

import os

_resource = {}      # prepare(): what limit() needs, kept out of the children's sys.modules


def prepare():
    # In the fork-server, after its preload: a child imports nothing to set its limits.
    import resource
    _resource['setrlimit'] = resource.setrlimit
    _resource['limits'] = {n: getattr(resource, 'RLIMIT_' + n.upper()) for n in 'cpu data nofile fsize core'.split()}


def drop_privileges(uid, gid, groups):
    # The script user's identity, after the fork and before any script code
    # (bytecode was compiled or checked on Kiln's trusted side). -1: keep.
    # Leaving root clears every capability; a Kiln that switches users with
    # ambient CAP_SETUID/CAP_SETGID/CAP_KILL keeps them across setuid, so
    # they are dropped here (capset), and the result is checked: a child that
    # could become Kiln again never runs a script.
    if gid >= 0:
        os.setgroups(groups)
        os.setgid(gid)
    if uid < 0:
        return
    os.setuid(uid)
    if _capabilities() != 0:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)      # _LINUX_CAPABILITY_VERSION_3, this thread
        if libc.capset(header, (ctypes.c_uint32 * 6)()) != 0:
            raise OSError(ctypes.get_errno(), 'capset: cannot drop capabilities')
    if _capabilities() != 0 or os.getresuid() != (uid, uid, uid) or (gid >= 0 and os.getresgid() != (gid, gid, gid)):
        raise OSError('the script user %d:%d still holds privileges after the switch' % (uid, gid))


def _capabilities():
    # The permitted set (a superset of effective and ambient), from /proc.
    with open('/proc/self/status', 'rb') as f:
        for line in f:
            if line.startswith(b'CapPrm:'):
                return int(line.split()[1], 16)
    return 0


def join(procs):
    # Kiln's request cgroup (ScriptRunner.confinement), joined while still Kiln's user: all the script starts
    # is counted and found. A child that cannot join does not run.
    try:
        fd = os.open(procs, os.O_WRONLY)
        os.write(fd, b'%d' % os.getpid())
        os.close(fd)
    except OSError as exc:
        os.write(2, b'kiln: cannot join the request cgroup %s: %s\n' % (procs, os.fsencode(str(exc))))
        os._exit(126)


def rlimits(value):
    # The request's rlimits, name=soft:hard (ScriptLimits.rlimits), as (resource, (soft, hard)) pairs.
    limits = []
    for name, _, pair in (i.partition(b'=') for i in (value or b'').split(b',') if i):
        soft, _, hard = pair.partition(b':')
        limits.append((_resource['limits'][name.decode('ascii')], (int(soft), int(hard))))
    return limits


def limit(value):
    # The request's rlimits on this process. No parent-death signal: when the fork-server dies Kiln kills each
    # child with its descendants (Orphans.java), which needs the child alive.
    for res, pair in rlimits(value):
        _resource['setrlimit'](res, pair)
