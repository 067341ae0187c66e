"""The folder a report is written into, each of its files whole or not at all: a file
goes to a temporary name beside it (".NAME.tmp-PID") and is renamed into place
(os.replace) only once complete, so a full disk or a read-only folder leaves no cut
file and no temporary one, and the error names the file and why.

`heaplab report` builds the whole report in a temporary folder which it renames to the
final one once complete (`--renamed-to DIR`): the report then names DIR's paths, a
path under DIR is read under the temporary folder, and an error says that nothing is
written to DIR."""
import os
from pathlib import Path

from .errors import WriteError


class OutDir:
    """Where the files go (PATH) and the name the report goes by (FINAL: PATH itself,
    unless the caller renames PATH to FINAL once the report is complete)."""

    def __init__(self, path, final=None):
        self.path = Path(path)
        self.final = Path(final) if final is not None else self.path

    def _moved(self, path, source, target):
        path = Path(path)
        if path.parts[:len(source.parts)] == source.parts:
            return target.joinpath(*path.parts[len(source.parts):])
        return path

    def shown(self, path):
        """Returns PATH as the report names it (under FINAL when it is under PATH), a str."""
        return str(self._moved(path, self.path, self.final))

    def actual(self, path):
        """Returns where PATH, which may be named under FINAL, is while the report is written."""
        return self._moved(path, self.final, self.path)

    def link(self, path):
        """Returns PATH relative to FINAL, where the pages are read from; raises ValueError
        when there is no relative path (another drive)."""
        return os.path.relpath(Path(path).resolve(), self.final.resolve())

    def _failed(self, path, error):
        whole = f" (nothing written to {self.final})" if self.final != self.path else " (nothing written)"
        return WriteError(f"{self.shown(path)}: cannot write: {error.strerror or error}{whole}")

    def make(self, relative="."):
        """Creates the folder RELATIVE under PATH (and PATH); raises WriteError naming it."""
        folder = self.path / relative
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise self._failed(Path(e.filename) if e.filename else folder, e) from None
        return folder

    def write(self, relative, data):
        """Writes DATA (str or bytes) to RELATIVE under PATH, whole or not at all; returns
        its path. Raises WriteError naming the file (as the report names it) and why."""
        path = self.make(Path(relative).parent) / Path(relative).name
        temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            with open(temp, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        except OSError as e:
            try:
                temp.unlink()
            except OSError:
                pass
            raise self._failed(path, e) from None
        return path
