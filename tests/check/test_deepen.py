"""The first rule broken, not the crash it caused (check/deepen.c, cli/deepen.c).
`scribbler` (tests/backends/faulty.c) writes a byte into its 3rd alloc's block on its
20th operation and segfaults on its 40th. A normal replay meets the crash at operation
39; run again with every operation checked (--check-every deep) the changed byte shows
at operation 19, and that is what replay and diff report and write. The reproducer
records the mode, so it replays to the same finding without any option."""
import re

from conftest import write_trace

FINDING = re.compile(r"DIVERGENCE scribbler: .*?operation (\d+) \((\w+)\): ([A-Z_]+)")


def trace(tmp_path):
    body = "alloc 1 64\nalloc 2 64\nalloc 3 64\n"
    body += "".join(f"alloc {i} 32\nfree {i}\n" for i in range(4, 41))
    return write_trace(tmp_path / "scribble.trace", body)


def test_the_deep_mode_sees_the_write_before_the_crash(heaplab_test_release, tmp_path):
    t = trace(tmp_path)
    deep = heaplab_test_release("replay", "--no-speed", "-q", "--backends", "scribbler", "--check-every", "deep",
                                "--findings", tmp_path / "d", t)
    assert deep.returncode == 1 and FINDING.search(deep.stderr).groups() == ("19", "alloc", "CONTENTS"), deep.stderr


def test_replay_reports_the_first_rule_and_its_reproducer_replays(heaplab_test_release, tmp_path):
    findings = tmp_path / "f"
    proc = heaplab_test_release("replay", "--no-speed", "-q", "--backends", "scribbler", "--findings", findings,
                                trace(tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert "crashed or hung at operation 39" in proc.stderr and "it broke another rule first" in proc.stderr
    assert FINDING.search(proc.stderr).groups() == ("19", "alloc", "CONTENTS"), proc.stderr
    [repro] = findings.glob("*.trace")
    assert "#@heaplab.check_every=deep" in repro.read_text().splitlines()
    for attempt in range(5):
        again = heaplab_test_release("replay", "--no-speed", "-q", "--findings", tmp_path / "r", repro)
        assert again.returncode == 1 and FINDING.search(again.stderr).groups() == ("19", "alloc", "CONTENTS"), \
            again.stderr


def test_diff_reports_the_first_rule_too(heaplab_test_release, tmp_path):
    proc = heaplab_test_release("diff", "--backends", "bins,scribbler", "--findings", tmp_path / "f", trace(tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert FINDING.search(proc.stderr).groups() == ("19", "alloc", "CONTENTS"), proc.stderr
    [repro] = (tmp_path / "f").glob("*.trace")
    again = heaplab_test_release("replay", "--no-speed", "-q", "--findings", tmp_path / "r", repro)
    assert again.returncode == 1 and ": CONTENTS: " in again.stderr, again.stderr


def test_a_crash_with_nothing_before_it_stays_a_crash(heaplab_test_release, tmp_path):
    """crasher segfaults on its 100th operation and breaks nothing before: CRASH at 99."""
    body = "".join(f"alloc {i} 16\nfree {i}\n" for i in range(1, 61))
    t = write_trace(tmp_path / "c.trace", body)
    proc = heaplab_test_release("replay", "--no-speed", "-q", "--backends", "crasher", "--findings", tmp_path / "f", t)
    assert proc.returncode == 1 and "operation 99 (free): CRASH" in proc.stderr, proc.stderr
    assert "another rule first" not in proc.stderr
