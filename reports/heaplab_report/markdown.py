"""Writes a page (see page.py) as GitHub-flavoured Markdown."""
from .page import Heading, Image, Link, Table, Text


def _escape(text):
    """Returns TEXT safe inside a Markdown table cell or paragraph."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _cell(cell):
    if isinstance(cell, Link):
        return f"[{_escape(cell.text)}](<{cell.href}>)"
    return _escape(cell)


def _table(table):
    align = ["---"] * table.labels + ["---:"] * (len(table.headers) - table.labels)
    lines = ["| " + " | ".join(_escape(h) for h in table.headers) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def render(title, elements):
    """Returns the Markdown text of a page titled TITLE made of ELEMENTS."""
    parts = [f"# {_escape(title)}"]
    for e in elements:
        if isinstance(e, Heading):
            parts.append("#" * e.level + " " + _escape(e.text))
        elif isinstance(e, Text):
            parts.append(_escape(e.text))
        elif isinstance(e, Table):
            parts.append(_table(e))
        elif isinstance(e, Image):
            parts.append(f"![{_escape(e.alt)}](<{e.href}>)")
        else:
            raise TypeError(f"not a page element: {e!r}")
    return "\n\n".join(parts) + "\n"
