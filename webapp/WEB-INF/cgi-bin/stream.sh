#!/bin/sh
# Streaming: the headers go out first, then one line every 0.3 s. Each
# echo is a separate write to the pipe, so the server can pass every line
# on as soon as it comes (try: curl -N http://localhost:8080/cgi-bin/stream.sh).
echo 'Content-Type: text/plain; charset=utf-8'
echo 'Cache-Control: no-store'
echo ''
i=1
while [ "$i" -le 5 ]; do
    echo "line $i of 5 at $(date +%H:%M:%S)"
    [ "$i" -lt 5 ] && sleep 0.3
    i=$((i + 1))
done
