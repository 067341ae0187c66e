"""What the run shim's tests share: the test programs (tests/data/run/ and the
recorder's tests/data/record/), built once, and the backends that can serve a whole
process (README "Running a program on a backend")."""
import subprocess

import pytest

from conftest import ROOT

# Each reference backend as it can serve a whole process: guard only sampled (at
# sample=1 a process outgrows its ~8,000 guarded blocks).
WHOLE_PROCESS = ["bins", "arena", "guard:sample=16", "caps", "wasm"]

JSON = 'import json; print(len(json.dumps([{"a": i} for i in range(20000)])))'


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    out = tmp_path_factory.mktemp("programs")
    sources = {"churn": ROOT / "tests/data/run/churn.c", "misdeeds": ROOT / "tests/data/run/misdeeds.c",
               "forks": ROOT / "tests/data/record/forks.c", "reexec": ROOT / "tests/data/record/reexec.c"}
    for name, source in sources.items():
        subprocess.run(["gcc", "-O1", "-w", "-pthread", "-o", out / name, source], check=True)
    return out


def detecting(heaplab, kind):
    """The reference backends whose default instance declares the misuse kind, from
    `heaplab list` (so a backend that starts or stops declaring it is followed)."""
    listing = heaplab("list").stdout
    found, name = [], None
    for line in listing.splitlines():
        if line and not line[0].isspace():
            name = line.split()[0] if " reference " in line else None
        elif name and line.strip().startswith("detects:") and kind in line.split():
            found.append(name)
    return found
