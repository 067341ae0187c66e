"""Findings that reproduce (fuzz/reproduce.c, fuzz/history.c): what `heaplab fuzz`
writes replays to the same finding every time and shrinks, even when the backend's
state outlives an input. The subject is a first-fit malloc-style library with a real
kind of bug (tests/backends/malloc_firstfit.c: a realloc that shrinks in place leaves
the next block's back-size stale) whose heap is process-global, as a real library's
is; the same library without the bug is the control."""
import json
import re

from conftest import ROOT

BUGGY = f"malloc:ff_@{ROOT}/build/tests/libmalloc_firstfit.so"
FIXED = f"malloc:ff_@{ROOT}/build/tests/libmalloc_firstfit_fixed.so"
FINDING = re.compile(r"DIVERGENCE libmalloc_firstfit\.so: .*?operation (\d+) \((\w+)\): ([A-Z_]+)")


def test_the_first_fit_bug_is_found_and_its_finding_replays_20_of_20_and_shrinks(heaplab_release, tmp_path):
    findings = tmp_path / "deep" / "findings"  # a folder whose parents do not exist yet
    proc = heaplab_release("fuzz", "--backends", BUGGY, "--seed", "1", "--runs", "6000", "-q", "--findings",
                           findings, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = FINDING.search(proc.stderr)
    assert found, proc.stderr
    index, kind, rule = found.groups()
    assert "teardown" not in proc.stderr
    # the first rule broken, not the crash it causes later: the library hands out memory
    # still on its free list; the pattern written into that block breaks the list and the
    # next malloc crashes, but run with nothing written into the blocks (check_every
    # untouched, on the crash's shrunk stream) the next malloc hands it out again
    assert rule in ("OVERLAP", "CONTENTS"), proc.stderr
    assert "it broke this rule first" in proc.stderr
    [record] = [json.loads(p.read_text()) for p in findings.glob("*.json")]
    assert record["reproduced"] is True and record["rule"] == rule and record["operation"] == int(index)
    assert record["deepened"] is True
    [trace] = findings.glob("*.trace")
    head = trace.read_text().splitlines()[:6]
    assert f"#@heaplab.backend={BUGGY}" in head and f"#@heaplab.rule={rule}" in head
    # the trace names its backends: replay needs nothing else, and shows the same finding every time
    for attempt in range(20):
        again = heaplab_release("replay", "--no-speed", "-q", "--findings", tmp_path / "r", trace)
        assert again.returncode == 1, f"attempt {attempt}: {again.stderr}"
        shown = FINDING.search(again.stderr)
        assert shown and shown.groups() == (index, kind, rule), f"attempt {attempt}: {again.stderr}"
    for attempt in range(3):
        small = tmp_path / f"small{attempt}.trace"
        shrunk = heaplab_release("shrink", "-q", "-o", small, trace, timeout=300)
        assert shrunk.returncode == 0, f"attempt {attempt}: {shrunk.stdout}{shrunk.stderr}"
        assert f"{rule} on libmalloc_firstfit.so" in shrunk.stdout
        # the shrunk trace is a reproducer too: its metadata runs it as it was shrunk
        again = heaplab_release("replay", "--no-speed", "-q", "--findings", tmp_path / "s", small)
        assert again.returncode == 1 and f": {rule}: " in again.stderr, again.stderr


def test_the_same_library_without_the_bug_fuzzes_clean(heaplab_release, tmp_path):
    proc = heaplab_release("fuzz", "--backends", FIXED, "--seed", "1", "--runs", "3000", "-q", "--findings",
                           tmp_path / "f", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 findings" in proc.stdout


def test_a_free_all_that_leaves_state_behind_is_caught_and_replays(heaplab_test_release, tmp_path):
    """bins-stale-reset's free_all keeps its free lists (tests/backends/bins_stale_reset.c):
    instances kept across inputs, each input ending in free_all, meet it at once."""
    findings = tmp_path / "f"
    proc = heaplab_test_release("fuzz", "--backends", "bins,bins-stale-reset", "--seed", "1", "--runs", "500", "-q",
                                "--findings", findings, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = re.search(r"DIVERGENCE bins-stale-reset: .*?operation (\d+) \((\w+)\): ([A-Z_]+)", proc.stderr)
    assert found and found.group(3) in ("CHECK_FAILED", "OVERLAP", "CONTENTS"), proc.stderr
    [trace] = findings.glob("*.trace")
    for attempt in range(5):
        again = heaplab_test_release("replay", "--no-speed", "-q", "--findings", tmp_path / "r", trace)
        shown = re.search(r"DIVERGENCE bins-stale-reset: .*?operation (\d+) \((\w+)\): ([A-Z_]+)", again.stderr)
        assert again.returncode == 1 and shown and shown.groups() == found.groups(), again.stderr
    assert heaplab_test_release("replay", "--no-speed", "-q", "--backends", "bins", trace).returncode == 0
