"""Writes a table (see page.py) as aligned plain text for a terminal."""
from .page import cell_text


def render(table):
    """Returns TABLE as lines of columns separated by two spaces, with a rule under the header."""
    rows = [[str(h) for h in table.headers]] + [[cell_text(c) for c in row] for row in table.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(table.headers))]

    def line(row):
        cells = [c.ljust(w) if i < table.labels else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()

    return "\n".join([line(rows[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in rows[1:]]) + "\n"
