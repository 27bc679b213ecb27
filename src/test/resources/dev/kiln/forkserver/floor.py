"""The floor: a warm Python forking and reaping children in a loop. argv: count, then how a child leaves
(`_exit`: os._exit(0) at once; `shutdown`: the interpreter's own shutdown, the inherited heap frozen as a
fork-server child has it). Prints forks/s."""
import gc, os, sys, time
import io, re, json, html, datetime, urllib.parse, http.cookies, email.message
count, how = int(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
for _ in range(count):
    pid = os.fork()
    if pid == 0:
        if how == '_exit':
            os._exit(0)
        gc.freeze()
        raise SystemExit(0)
    os.waitpid(pid, 0)
print('%.0f' % (count / (time.perf_counter() - start)))
