#!/usr/bin/env python3
"""Importing a local package.

Python puts the script's own folder first on sys.path, so the kiln_demo
package next to this script is importable as is. The page shows where
everything came from: this script's __name__ and __file__, the imported
modules' __file__, and where their bytecode is cached: Kiln keeps it in
its shared cache, so even a read-only cgi-bin is compiled once, not on
every request.
"""
import html
import os
import sys
import time

started = time.perf_counter()
import kiln_demo  # noqa: E402  (timed on purpose)
from kiln_demo import text  # noqa: E402
from kiln_demo.table import Markup, Table  # noqa: E402

import_time = time.perf_counter() - started


def code(value):
    return Markup(f"<code>{html.escape(str(value))}</code>")


def main():
    where = Table(["What", "Value"])
    where.add("__name__", code(__name__))
    where.add("__file__", code(__file__))
    where.add("sys.path[0]", code(sys.path[0]))
    where.add("kiln_demo.__file__", code(kiln_demo.__file__))
    where.add("kiln_demo.text.__file__", code(text.__file__))
    where.add("kiln_demo.text bytecode", code(text.__spec__.cached))
    where.add("sys.pycache_prefix", code(sys.pycache_prefix))
    where.add("sys.dont_write_bytecode", code(sys.dont_write_bytecode))
    where.add("import time", text.human_duration(import_time))

    sample = "Kiln hosts CGI scripts from a cgi-bin folder, with a shared Python bytecode cache"
    demo = Table(["Helper", "Result"], css_class="kiln-table demo")
    demo.add("slugify", code(text.slugify(sample)))
    demo.add("truncate(…, 40)", text.truncate(sample, 40))
    demo.add("title_case", text.title_case("the art of the CGI script"))
    demo.add("word_count", text.plural(text.word_count(sample), "word"))
    demo.add("human_size(os.path.getsize(__file__))", text.human_size(os.path.getsize(__file__)))
    demo.add("wrap_words(…, 30)", Markup("<br>".join(html.escape(l) for l in text.wrap_words(sample, 30))))

    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Imports</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}
caption {{ text-align: left; font-weight: bold; padding: .25rem 0; }}
th, td {{ border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }}
</style>
</head>
<body>
<h1>Imports</h1>
<p>This script imported <code>kiln_demo</code> {html.escape(kiln_demo.__version__)}
from the folder it lives in.</p>
{where.render(caption="Where things come from")}
{demo.render(caption="kiln_demo.text at work")}
</body>
</html>
"""
    data = page.encode("utf-8", "replace")
    out = sys.stdout.buffer
    out.write(b"Content-Type: text/html; charset=utf-8\n")
    out.write(b"Content-Length: %d\n\n" % len(data))
    out.write(data)
    out.flush()


if __name__ == "__main__":
    main()
