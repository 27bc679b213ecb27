#!/bin/sh
# Hello world in POSIX shell: a plain-text page with the date, the server
# software and the query string (plain text, so nothing needs escaping).
printf 'Content-Type: text/plain; charset=utf-8\n\n'
printf 'Hello from /bin/sh!\n\n'
printf 'Date:            %s\n' "$(date)"
printf 'Server software: %s\n' "${SERVER_SOFTWARE:-(unknown)}"
printf 'Query string:    %s\n' "${QUERY_STRING:-(none)}"
