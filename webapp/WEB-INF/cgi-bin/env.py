#!/usr/bin/env python3
"""Environment viewer.

Shows every variable of the script's environment (the CGI meta-variables,
the HTTP_* request headers and whatever the server passed through) as a
sorted HTML table, plus the length of the request body it read.

With ?format=json it answers application/json: exactly {name: value} of
os.environ, nothing more (Kiln's tests rely on that shape).
"""
import html
import json
import os
import sys
from urllib.parse import parse_qs


def read_body():
    """Read exactly CONTENT_LENGTH bytes of the request body, if any."""
    try:
        length = int(os.environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    stdin = sys.stdin.buffer
    chunks, left = [], length
    while left > 0:
        chunk = stdin.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def respond(content_type, text):
    data = text.encode("utf-8", "replace")
    out = sys.stdout.buffer
    out.write(f"Content-Type: {content_type}\n".encode("ascii"))
    out.write(b"Cache-Control: no-store\n")
    out.write(b"Content-Length: %d\n\n" % len(data))
    out.write(data)
    out.flush()


def as_html(body_length):
    rows = "\n".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in sorted(os.environ.items())
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>CGI environment</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: .25rem .5rem; text-align: left;
          vertical-align: top; font-family: ui-monospace, monospace; }}
th {{ background: #f4f4f4; white-space: nowrap; }}
td {{ word-break: break-all; }}
</style>
</head>
<body>
<h1>CGI environment</h1>
<p>{len(os.environ)} variables; request body: {body_length} bytes.
<a href="?format=json">As JSON</a></p>
<table>
{rows}
</table>
</body>
</html>
"""


def main():
    body = read_body()
    query = parse_qs(os.environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if query.get("format", [""])[-1] == "json":
        respond("application/json", json.dumps(dict(os.environ), indent=2, sort_keys=True) + "\n")
    else:
        respond("text/html; charset=utf-8", as_html(len(body)))


if __name__ == "__main__":
    main()
