"""What a report page says, independent of its format: a list of these elements, which
markdown.py, html.py and text.py write out."""
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Link:
    """A table cell or text linking to HREF (a path relative to the page, or a URL)."""
    text: str
    href: str


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text."""
    text: str


@dataclass(frozen=True)
class Table:
    """A table of str or Link cells; the first LABELS columns are names (left-aligned),
    the others figures (right-aligned)."""
    headers: list
    rows: list
    labels: int = 1


@dataclass(frozen=True)
class Image:
    """A PNG file: FILE is its path, HREF its path relative to the page."""
    file: Path
    href: str
    alt: str


def cell_text(cell):
    """Returns the text a cell shows (a Link's text)."""
    return cell.text if isinstance(cell, Link) else str(cell)
