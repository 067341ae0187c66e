"""bench/memory_bench.py (`make bench-memory`) at a small scale, 10^4 and 10^5 blocks:
the table and the JSON line are well-formed, each figure is the slope of the peaks it
prints, heaplab's share is its slope minus the yardstick's, and the yardstick measures
what an allocator independently costs (glibc's 32-byte chunk for a 16-byte block;
nothing per operation when one block is allocated and freed again). The full-scale
figures are the benchmark's, never asserted here."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT

BENCH = ROOT / "bench" / "memory_bench.py"
YARDSTICK = ROOT / "build" / "bench" / "memory-yardstick"
PEAK_RSS = ROOT / "build" / "bench" / "peak-rss"
SMALL = (10_000, 100_000)


@pytest.fixture(scope="module")
def tools():
    subprocess.run(["make", "-s", "build/bench/memory-yardstick", "build/bench/peak-rss"], cwd=ROOT, check=True)


@pytest.fixture(scope="module")
def small_run(tools, heaplab_release, tmp_path_factory):
    proc = subprocess.run([sys.executable, BENCH, "--blocks", ",".join(map(str, SMALL)), "--freed",
                           "--dir", tmp_path_factory.mktemp("bench-memory"), "--heaplab", heaplab_release.path],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    doc = json.loads(lines[-1])
    return lines[:-1], doc


def slope(peaks, row):
    units = [n * (2 if row["unit"] == "B/op" and row["trace"] != "live" else 1) for n in SMALL]
    return (peaks[1] - peaks[0]) / (units[1] - units[0])


def test_every_row_is_measured_and_printed(small_run):
    table, doc = small_run
    assert doc["bench"] == "memory" and doc["blocks"] == list(SMALL) and doc["size"] == 16
    assert doc["gates"] == {"per_live_block": 100, "per_live_block_goal": 64, "per_operation": 24}
    expected = [(b, c, t) for b in ("bins", "libc")
                for c, t in (("replay", "live"), ("replay --no-speed", "live"), ("replay", "freed"),
                             ("replay", "churn"), ("replay --no-speed", "churn"))]
    expected += [(None, "validate", "live"), (None, "validate", "churn")]
    assert [(r["backend"], r["command"], r["trace"]) for r in doc["rows"]] == expected
    body = [line.split() for line in table if line.startswith(("bins ", "libc ", "(none) "))]
    assert len(body) == len(expected)
    for cells, row in zip(body, doc["rows"]):
        unit = cells.index(row["unit"])
        assert cells[0] == (row["backend"] or "(none)") and " ".join(cells[1:unit - 1]) == row["command"]
        assert cells[unit - 1] == row["trace"]
        # the peaks (MiB), then the total, allocator and heaplab figures: the document's
        assert [float(x) for x in cells[unit + 1:unit + 6]] == pytest.approx(
            [p / (1 << 20) for p in row["peak_rss"]] + [row["total"], row["backend_own"], row["heaplab"]], abs=0.051)
        verdict = " ".join(cells[unit + 6:])
        if row["gate"] is None:
            assert verdict == "-"
        else:
            assert verdict.startswith(f"<={row['gate']} ") and ("PASS" in verdict) == row["pass"]
    assert "gates (issue 20)" in "\n".join(table)


def test_figures_are_slopes_and_heaplabs_share_is_the_difference(small_run):
    for row in small_run[1]["rows"]:
        assert all(p > 1 << 20 for p in row["peak_rss"]), row  # a real process, not an empty reading
        assert row["total"] == pytest.approx(slope(row["peak_rss"], row), abs=0.01)
        if row["backend"] is None:  # validate runs no allocator
            assert row["yardstick_peak_rss"] is None and row["backend_own"] == 0
        else:
            assert row["backend_own"] == pytest.approx(slope(row["yardstick_peak_rss"], row), abs=0.01)
        assert row["heaplab"] == pytest.approx(row["total"] - row["backend_own"], abs=0.02)
        if row["gate"] is not None:
            assert row["pass"] == (row["heaplab"] <= row["gate"])
        # plausible: no figure beyond a few KiB a unit; a replay remembers every live
        # block (more than nothing); a figure per operation may come down to about
        # nothing (a streamed trace), within this scale's noise (a 2 MiB page over
        # 90,000 blocks is 23 bytes)
        assert -32 < row["heaplab"] < 4096, row
        if row["unit"] == "B/block":
            assert row["heaplab"] > 0, row


def test_the_yardstick_measures_the_allocator_itself(small_run):
    rows = small_run[1]["rows"]
    own = {(r["backend"], r["trace"]): r["backend_own"] for r in rows if r["command"] == "replay"}
    # glibc serves a 16-byte request from a 32-byte chunk (16 + its 8-byte header,
    # rounded to 16): an expectation independent of heaplab
    assert 28 <= own[("libc", "live")] <= 36, own
    # bins hands out at least the 16 bytes of each block (and keeps each in its misuse table)
    assert own[("bins", "live")] >= 16, own
    # one block allocated and freed again: the allocator's memory does not grow
    assert abs(own[("libc", "churn")]) < 2 and abs(own[("bins", "churn")]) < 2, own


def test_peak_rss_counts_descendants_not_the_launcher(tools):
    """The launcher's figure includes a forked grandchild's 64 MiB, and does not start
    from the resident size of whoever started the launcher (this interpreter, made to
    hold 128 MiB: a child forked from it directly would read at least that)."""
    ballast = bytearray(128 << 20)
    ballast[::4096] = b"\1" * len(ballast[::4096])
    grandchild = ("import os\nif os.fork() == 0:\n    b = bytearray(64 << 20); b[::4096] = b'\\1' * len(b[::4096])\n"
                  "    os._exit(0)\nos.wait()\n")
    proc = subprocess.run([PEAK_RSS, sys.executable, "-c", grandchild], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stderr.split()[-1]) >= 64 << 20
    small = subprocess.run([PEAK_RSS, "true"], capture_output=True, text=True)
    assert small.returncode == 0 and int(small.stderr.split()[-1]) < 16 << 20, small.stderr
    del ballast
    failed = subprocess.run([PEAK_RSS, "sh", "-c", "exit 3"], capture_output=True, text=True)
    assert failed.returncode == 3 and failed.stderr.startswith("peak-rss: ")


def test_the_yardstick_refuses_what_it_cannot_measure_directly(tools):
    # a foreign backend's contract table is heaplab's adapter, whose bookkeeping is heaplab's share
    proc = subprocess.run([YARDSTICK, "--backend", "jemalloc", "1000"], capture_output=True, text=True)
    assert proc.returncode == 2 and "only libc is measured" in proc.stderr
    proc = subprocess.run([YARDSTICK, "--backend", "bins:detect=0", "--shape", "churn", "1000"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout)["backend"] == "bins:detect=0"


def test_bad_sizes_and_failed_runs_exit_2(tools, tmp_path):
    proc = subprocess.run([sys.executable, BENCH, "--blocks", "100000,10000"], capture_output=True, text=True)
    assert proc.returncode == 2 and "0 < N1 < N2" in proc.stderr
    proc = subprocess.run([sys.executable, BENCH, "--blocks", "100,200", "--dir", tmp_path, "--heaplab",
                           tmp_path / "nosuch"], capture_output=True, text=True)
    assert proc.returncode == 2 and "nosuch replay -q --backends=bins" in proc.stderr and proc.stdout == ""
