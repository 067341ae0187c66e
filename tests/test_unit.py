"""Runs every C unit-test binary (tests/LAYER/test_*.c, built with ASan+UBSan into
build/asan/tests/LAYER/)."""
import subprocess

import pytest

from conftest import ROOT

UNITS = sorted(str(p.relative_to(ROOT / "tests").with_suffix("")) for p in (ROOT / "tests").glob("*/test_*.c"))


@pytest.mark.parametrize("name", UNITS)
def test_unit(name):
    exe = ROOT / "build" / "asan" / "tests" / name
    assert exe.exists(), f"{exe} was not built"
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    assert last.endswith(" 0 failed") and not last.startswith("0 passed"), last
