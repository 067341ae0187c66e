"""Fragmentation figures that hold on every trace and backend (release build: a
sanitized build's footprints are not comparable): the footprint at the peak of live
bytes and the peak footprint are read exactly, so J&W #2 <= #4 <= #3 everywhere and
every measure of a real footprint is at least 1; #3 is n/a (null), never 0, when
nothing is live at the footprint's peak; libc's figures do not depend on which other
backends are in the list."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT, write_trace

MEASURES = ("time_average", "at_peak_live", "at_peak_footprint", "peak_to_peak")
ALL = "bins,arena,guard,caps,wasm,libc,jemalloc,mimalloc,tcmalloc"


def results(heaplab_release, backends, *traces, extra=()):
    proc = heaplab_release("replay", "--json", "--no-speed", *extra, "--backends", backends, *traces)
    assert proc.returncode in (0, 1), proc.stderr  # 1: mimalloc's known ALIGNMENT finding
    return json.loads(proc.stdout)["results"]


def check_ordered(r):
    f = r["fragmentation"]
    where = f"{r['backend']} on {r['trace']}"
    assert f["at_peak_live"] >= 1 and f["peak_to_peak"] >= 1, where
    assert f["at_peak_live"] <= f["peak_to_peak"] * (1 + 1e-12), where
    if f["at_peak_footprint"] is not None:
        assert f["peak_to_peak"] <= f["at_peak_footprint"] * (1 + 1e-12), where
    assert f["time_average"] >= 1, where
    assert f["footprint_at_peak_live"] >= f["live_at_peak_live"], where


def test_every_shipped_and_a_generated_trace_orders_the_measures(heaplab_release, tmp_path):
    gen = tmp_path / "gen.trace"
    subprocess.run([sys.executable, str(ROOT / "bench" / "gen_trace.py"), "--ops", "30000", "--live", "3000",
                    str(gen)], check=True)
    checked = 0
    for r in results(heaplab_release, ALL, "traces/", gen):
        if r["divergences"] or not r["fragmentation"] or r["peak_live_bytes"] == 0:
            continue
        check_ordered(r)
        checked += 1
    assert checked >= 9 * 10


def test_the_stale_sample_trace_reads_the_footprint_at_its_peak(heaplab_release, tmp_path):
    """A cached footprint gave 1,920 B for 60,016 live bytes here (#2 = 0.032)."""
    trace = write_trace(tmp_path / "stale.trace", "alloc 1 16\nalloc 2 60000\nfree 2\nfree 1\n")
    for r in results(heaplab_release, "libc,jemalloc,mimalloc,tcmalloc,bins", trace):
        check_ordered(r)
        assert r["fragmentation"]["live_at_peak_live"] == 60016


def test_nothing_live_at_the_footprint_peak_is_not_applicable(heaplab_release, tmp_path):
    """Blocks of size 0: the footprint peaks while no byte is live, so #3 has nothing to
    divide by: null in the JSON ("n/a" in the report), never 0."""
    trace = write_trace(tmp_path / "zero.trace", "alloc 1 0\nalloc 2 0\nfree 1\nfree 2\n")
    for r in results(heaplab_release, "bins,arena", trace):
        f = r["fragmentation"]
        assert f["footprint_at_peak_footprint"] > 0 and f["live_at_peak_footprint"] == 0
        assert f["at_peak_footprint"] is None, r["backend"]
    md = tmp_path / "rep"
    heaplab_release("report", "--backends", "bins", "--out", md, trace)
    assert "| n/a |" in (md / "report.md").read_text()


@pytest.mark.parametrize("trace", ["traces/real/python-json.trace.zst", "traces/real/git-log.trace.zst"])
def test_libc_alone_or_beside_every_backend_measures_the_same(heaplab_release, trace):
    alone = results(heaplab_release, "libc", trace)[0]["fragmentation"]
    beside = [r for r in results(heaplab_release, "tcmalloc,jemalloc,mimalloc,libc,bins", trace)
              if r["backend"] == "libc"][0]["fragmentation"]
    for m in MEASURES:
        assert beside[m] == pytest.approx(alone[m], rel=0.02), m


def test_in_one_process_after_tcmalloc_libc_footprint_is_not_measured(heaplab_release):
    rs = results(heaplab_release, "tcmalloc,libc", "traces/basic.trace", extra=("--in-process",))
    libc = [r for r in rs if r["backend"] == "libc"][0]
    assert libc["peak_footprint_bytes"] is None and libc["fragmentation"] is None
    assert "moved the program break" in libc["backend_version"]
