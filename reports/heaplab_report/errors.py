"""The errors the report package raises for what it cannot do: input it cannot use (a
file missing, not JSON, of the wrong kind or shape) and an output file it cannot write.
Each message names the file; the command line prints it on one line and exits 2. Also
the one reader of a JSON input file, so every input's missing, unreadable and not-JSON
messages read alike."""
import json
from pathlib import Path


class InputError(Exception):
    """Input the report cannot use; the message names the file. The CLI exits 2 with it."""


class WriteError(Exception):
    """A file of the report that could not be written (nothing of it is left); the
    message names it and why. The CLI exits 2 with it."""


def read_json_file(path):
    """The JSON value in the file at PATH; raises InputError naming PATH when it is missing
    ("no such file"), unreadable ("cannot read: REASON") or not JSON ("not JSON: WHAT at
    line L column C")."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
