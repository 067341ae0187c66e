"""`heaplab shrink`: a finding's trace made small while it shows the same rule on the
same backend, as a user runs it on what the fuzzer wrote or on a long trace."""
import json
import random

from conftest import write_trace  # noqa: F401


def ops(path):
    return [l for l in path.read_text().splitlines()[1:] if l and l[0] != "#" and l != "end"]


def test_a_fuzzer_finding_shrinks_from_its_record_and_still_shows_the_rule(heaplab_test_release, tmp_path):
    findings = tmp_path / "f"
    proc = heaplab_test_release("fuzz", "--backends", "bins,mutant-class-off-by-one", "--seed", "2", "--runs", "1000",
                                "-q", "--findings", findings)
    assert proc.returncode == 1
    record = next(findings.glob("*.json"))
    rule = json.loads(record.read_text())["rule"]
    trace = record.with_suffix(".trace")
    proc = heaplab_test_release("shrink", trace, "-q")  # backends from the record beside it
    assert proc.returncode == 0, proc.stderr
    small = trace.with_suffix(".min.trace")
    assert f"{rule} on mutant-class-off-by-one" in proc.stdout and f"written: {small}" in proc.stdout
    assert len(ops(small)) < len(ops(trace)) and len(ops(small)) <= 12
    again = heaplab_test_release("replay", "--check-every", "1", "--findings", tmp_path / "r", "--backends",
                                 "mutant-class-off-by-one", small)
    assert again.returncode == 1 and f": {rule}: " in again.stderr
    assert heaplab_test_release("replay", "--backends", "bins", small).returncode == 0


def test_a_ten_thousand_operation_trace_shrinks_to_what_matters(heaplab_test_release, tmp_path):
    rng = random.Random(5)
    lines, live, next_id = [], [], 1
    for i in range(10000):
        if i == 9000:
            lines.append(f"alloc {next_id} 100 align=8192")
            next_id += 1
        elif live and rng.random() < 0.45:
            lines.append(f"free {live.pop(rng.randrange(len(live)))}")
        else:
            lines.append(f"alloc {next_id} {rng.randint(1, 300)}")
            live.append(next_id)
            next_id += 1
    trace = write_trace(tmp_path / "big.trace", "\n".join(lines) + "\n")
    out = tmp_path / "small.trace"
    proc = heaplab_test_release("shrink", "--backends", "mutant-large-align", "-o", out, trace, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "big.trace: 10000 -> " in proc.stdout and "ALIGNMENT on mutant-large-align" in proc.stdout
    small = ops(out)
    assert len(small) <= 100 and small[-1].endswith("align=8192")
    assert heaplab_test_release("replay", "--findings", tmp_path / "r", "--backends", "mutant-large-align",
                                out).returncode == 1


def test_a_crash_shrinks_as_a_crash(heaplab_test_release, tmp_path):
    body = "".join(f"alloc {i} 32\n" for i in range(1, 76)) + "".join(f"free {i}\n" for i in range(1, 76))
    trace = write_trace(tmp_path / "c.trace", body)
    proc = heaplab_test_release("shrink", "--backends", "crasher", "-q", trace)
    assert proc.returncode == 0, proc.stderr
    assert "CRASH on crasher" in proc.stdout
    assert len(ops(tmp_path / "c.min.trace")) < 150  # crasher dies on its 100th call


def test_bad_usage_and_traces_without_a_finding(heaplab, tmp_path):
    trace = write_trace(tmp_path / "ok.trace", "alloc 1 16\nfree 1\n")
    proc = heaplab("shrink", trace)
    assert proc.returncode == 2 and "--backends LIST is required" in proc.stderr
    proc = heaplab("shrink", "--backends", "bins", "-q", trace)
    assert proc.returncode == 2 and "shows no finding on bins" in proc.stderr
    assert heaplab("shrink", "--backends", "bins").returncode == 2
    assert heaplab("shrink", "--backends", "bins", "--timeout", "x", trace).returncode == 2
    bad = write_trace(tmp_path / "bad.trace", "free 9\n")
    proc = heaplab("shrink", "--backends", "bins", bad)
    assert proc.returncode == 2 and "bad.trace:2" in proc.stderr
    assert heaplab("shrink", "--help").returncode == 0
