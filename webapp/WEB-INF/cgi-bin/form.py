#!/usr/bin/env python3
"""A form that posts to itself.

GET shows an HTML form (a text field, a textarea and a select); POST
(application/x-www-form-urlencoded) shows what was submitted, escaped,
with a link back to the empty form.

No `cgi` module (deprecated, removed in Python 3.13): the query string and
the body are parsed with urllib.parse, and exactly CONTENT_LENGTH bytes
are read from standard input.
"""
import html
import os
import sys
from urllib.parse import parse_qs

COLOURS = ["red", "green", "blue", "kiln orange"]
MAX_BODY = 1 << 20  # refuse bodies over 1 MiB


def read_body():
    try:
        length = int(os.environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    if length > MAX_BODY:
        raise ValueError(f"request body too large ({length} bytes)")
    stdin = sys.stdin.buffer
    chunks, left = [], length
    while left > 0:
        chunk = stdin.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def send(body, status=None):
    data = body.encode("utf-8")
    out = sys.stdout.buffer
    if status:
        out.write(f"Status: {status}\n".encode("ascii"))
    out.write(b"Content-Type: text/html; charset=utf-8\n")
    out.write(b"Content-Length: %d\n\n" % len(data))
    out.write(data)
    out.flush()


def page(title, content):
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; max-width: 40rem; }}
label {{ display: block; margin-top: 1rem; }}
input, textarea, select {{ font: inherit; width: 100%; box-sizing: border-box; }}
button {{ font: inherit; margin-top: 1rem; }}
dt {{ font-weight: bold; margin-top: .5rem; }}
dd {{ white-space: pre-wrap; margin-left: 1rem; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
{content}
</body>
</html>
"""


def self_url():
    return os.environ.get("SCRIPT_NAME") or "form.py"


def show_form():
    options = "\n".join(
        f'<option value="{html.escape(c)}">{html.escape(c)}</option>' for c in COLOURS
    )
    return page("Say something", f"""<form method="post" action="{html.escape(self_url())}"
      enctype="application/x-www-form-urlencoded">
<label>Your name <input type="text" name="name" maxlength="100" required></label>
<label>Message <textarea name="msg" rows="5"></textarea></label>
<label>Favourite colour <select name="colour">
{options}
</select></label>
<button type="submit">Send</button>
</form>
""")


def show_result(body):
    ctype = os.environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return page("Unsupported form encoding",
                    f"<p>Expected application/x-www-form-urlencoded, got "
                    f"<code>{html.escape(ctype or 'nothing')}</code>.</p>"
                    f'<p><a href="{html.escape(self_url())}">Back to the form</a></p>'), "415 Unsupported Media Type"
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    items = []
    for name in ("name", "msg", "colour"):
        value = fields.get(name, [""])[-1]
        items.append(f"<dt>{html.escape(name)}</dt><dd>{html.escape(value) or '<em>(empty)</em>'}</dd>")
    extra = sorted(set(fields) - {"name", "msg", "colour"})
    for name in extra:
        values = ", ".join(fields[name])
        items.append(f"<dt>{html.escape(name)}</dt><dd>{html.escape(values)}</dd>")
    return page("Thank you", f"""<p>You sent:</p>
<dl>
{chr(10).join(items)}
</dl>
<p><a href="{html.escape(self_url())}">Back to the form</a></p>
"""), None


def main():
    method = os.environ.get("REQUEST_METHOD", "GET").upper()
    if method == "POST":
        try:
            body = read_body()
        except ValueError as e:
            send(page("Too large", f"<p>{html.escape(str(e))}</p>"), "413 Content Too Large")
            return
        content, status = show_result(body)
        send(content, status)
    elif method in ("GET", "HEAD"):
        send(show_form())
    else:
        sys.stdout.write("Status: 405 Method Not Allowed\nAllow: GET, HEAD, POST\n"
                         "Content-Type: text/plain\n\nmethod not allowed\n")


if __name__ == "__main__":
    main()
