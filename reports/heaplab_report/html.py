"""Writes a page (see page.py) as one self-contained HTML file: the style is inline and
every image is embedded as a base64 PNG, so it reads without a server or a network."""
import base64
import html

from .page import Heading, Image, Link, Table, Text

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 90em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 90%; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #f7f7f7; }
img { max-width: 100%; display: block; margin: 1em 0; }
h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
"""


def _cell(cell, tag, numeric):
    cls = ' class="num"' if numeric and tag == "td" else ""
    if isinstance(cell, Link):
        inner = f'<a href="{html.escape(cell.href)}">{html.escape(cell.text)}</a>'
    else:
        inner = html.escape(str(cell))
    return f"<{tag}{cls}>{inner}</{tag}>"


def _table(table):
    head = "".join(_cell(h, "th", False) for h in table.headers)
    body = "".join("<tr>" + "".join(_cell(c, "td", i >= table.labels) for i, c in enumerate(row)) + "</tr>\n"
                   for row in table.rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _image(image):
    data = base64.b64encode(image.file.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(image.alt)}">'


def render(title, elements):
    """Returns the HTML text of a page titled TITLE made of ELEMENTS.

    Raises OSError when an image file cannot be read."""
    parts = []
    for e in elements:
        if isinstance(e, Heading):
            parts.append(f"<h{e.level}>{html.escape(e.text)}</h{e.level}>")
        elif isinstance(e, Text):
            parts.append(f"<p>{html.escape(e.text)}</p>")
        elif isinstance(e, Table):
            parts.append(_table(e))
        elif isinstance(e, Image):
            parts.append(_image(e))
        else:
            raise TypeError(f"not a page element: {e!r}")
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n")
