#!/usr/bin/env python3
"""Hello world: the smallest useful CGI script.

Prints an HTML page with the server's local time and the Python version
that ran it. Everything echoed back is HTML-escaped.
"""
import html
import os
import platform
import sys
from datetime import datetime


def main():
    now = datetime.now().astimezone()
    who = os.environ.get("SERVER_SOFTWARE", "an unknown server")
    body = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hello from Kiln</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 2rem; }}</style>
</head>
<body>
<h1>Hello, world!</h1>
<p>The time here is <strong>{html.escape(now.strftime("%Y-%m-%d %H:%M:%S %Z"))}</strong>.</p>
<p>This page was made by {html.escape(platform.python_implementation())}
{html.escape(platform.python_version())} ({html.escape(sys.executable or "python")}),
run by {html.escape(who)}.</p>
</body>
</html>
"""
    data = body.encode("utf-8")
    out = sys.stdout.buffer
    out.write(b"Content-Type: text/html; charset=utf-8\n")
    out.write(b"Content-Length: %d\n\n" % len(data))
    out.write(data)
    out.flush()


if __name__ == "__main__":
    main()
