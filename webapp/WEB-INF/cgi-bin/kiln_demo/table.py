"""A tiny HTML table renderer.

    t = Table(["Name", "Size"], align={"Size": "right"})
    t.add("kiln.jar", "12.3 MiB")
    html_text = t.render(caption="Files")

Every cell is HTML-escaped; pass a `Markup` to insert trusted HTML as is.
"""
import html

__all__ = ["Markup", "Table", "render_table"]


class Markup(str):
    """A string that is already safe HTML and is not escaped again."""

    __slots__ = ()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    return html.escape(str(value))


class Table:
    """Collects rows, then renders them as one <table> element."""

    def __init__(self, columns, align=None, css_class="kiln-table"):
        self.columns = list(columns)
        if not self.columns:
            raise ValueError("a table needs at least one column")
        self.align = dict(align or {})
        unknown = set(self.align) - set(self.columns)
        if unknown:
            raise ValueError(f"alignment for unknown columns: {sorted(unknown)}")
        self.css_class = css_class
        self.rows = []

    def add(self, *cells, **named):
        """Add a row, by position (add("a", 1)) or by name (add(Name="a"))."""
        if cells and named:
            raise TypeError("give the cells by position or by name, not both")
        if named:
            unknown = set(named) - set(self.columns)
            if unknown:
                raise ValueError(f"unknown columns: {sorted(unknown)}")
            cells = tuple(named.get(c) for c in self.columns)
        if len(cells) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} cells, got {len(cells)}")
        self.rows.append(tuple(cells))
        return self

    def extend(self, rows):
        for row in rows:
            self.add(*row)
        return self

    def sort(self, column, reverse=False):
        """Sort the rows by one column (None sorts first)."""
        i = self.columns.index(column)
        self.rows.sort(key=lambda r: (r[i] is not None, r[i]), reverse=reverse)
        return self

    def _style(self, column):
        side = self.align.get(column)
        return f' style="text-align: {html.escape(side)}"' if side else ""

    def render(self, caption=None, empty="(nothing to show)"):
        out = [f'<table class="{html.escape(self.css_class)}">']
        if caption:
            out.append(f"<caption>{_cell(caption)}</caption>")
        out.append("<thead><tr>")
        out.extend(f"<th{self._style(c)}>{_cell(c)}</th>" for c in self.columns)
        out.append("</tr></thead>")
        out.append("<tbody>")
        if not self.rows:
            out.append(f'<tr><td colspan="{len(self.columns)}">{_cell(empty)}</td></tr>')
        for row in self.rows:
            out.append("<tr>" + "".join(
                f"<td{self._style(c)}>{_cell(v)}</td>" for c, v in zip(self.columns, row)
            ) + "</tr>")
        out.append("</tbody>")
        out.append("</table>")
        return "\n".join(out)

    def __str__(self):
        return self.render()


def render_table(columns, rows, **options):
    """One-shot helper: render_table(["a", "b"], [(1, 2), (3, 4)])."""
    caption = options.pop("caption", None)
    return Table(columns, **options).extend(rows).render(caption=caption)
