"""kiln_demo: small helpers shared by the example CGI scripts.

This package lives next to the scripts in cgi-bin/. Python puts the
script's own folder first on sys.path, so `import kiln_demo` from a script
in the same folder finds it; Kiln's bytecode cache then keeps the compiled
modules for every later request.

    from kiln_demo import text, table
"""
from . import table, text
from .table import Table
from .text import slugify, truncate, wrap_words

__all__ = ["Table", "slugify", "table", "text", "truncate", "wrap_words"]
__version__ = "1.0"
