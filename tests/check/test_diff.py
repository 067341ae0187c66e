"""`heaplab diff`: backends in lockstep over one stream, as a user runs it."""
import pytest

from conftest import shipped_traces, write_trace, mutant_trace, PROCESS_ENDERS


def test_every_backend_agrees_on_the_shipped_traces(heaplab):
    # mimalloc's known finding (conftest.PEER_FINDINGS) is ignored: it stops mimalloc's
    # lane in basic.trace, listed, and every other backend is compared to the end
    proc = heaplab("diff", "--backends", "all", "--ignore", "ALIGNMENT@mimalloc", "traces/")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "1 findings ignored (--ignore)"
    lines = lines[:-1]
    assert len(lines) == len(shipped_traces())
    assert all(": 10 backends agree on " in line for line in lines)
    assert "traces/basic.trace: 10 backends agree on 67 operations (21 offsets compared) (1 ignored findings" in proc.stdout
    assert "ignored DIVERGENCE mimalloc: traces/basic.trace:39: operation 31 (alloc): ALIGNMENT: " in proc.stderr
    assert "ids retired" in [l for l in lines if l.startswith("traces/caps.trace")][0]  # caps served, bins could not
    # without --ignore the same finding stops the comparison of basic.trace
    proc = heaplab("diff", "--backends", "libc,mimalloc", "traces/basic.trace")
    assert proc.returncode == 1 and "ALIGNMENT" in proc.stderr


def test_ignore_entries_are_checked_and_read_from_a_file(heaplab, tmp_path):
    listing = tmp_path / "known.txt"
    listing.write_text("# known peer bugs\nALIGNMENT@mimalloc   # 2.0.9, fixed in 2.1\n\n")
    proc = heaplab("replay", "--no-speed", "--ignore", listing, "--backends", "mimalloc,bins", "traces/basic.trace")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("2 runs: 1 clean, 0 divergent, 1 ignored")
    assert "ignored:ALIGNMENT" in proc.stdout and "ignored DIVERGENCE mimalloc: traces/basic.trace:39" in proc.stderr
    for bad, why in (("NOSUCH@mimalloc", "no rule is named 'NOSUCH'"), ("ALIGNMENT", "not RULE@BACKEND"),
                     ("ALIGNMENT@", "not RULE@BACKEND")):
        proc = heaplab("diff", "--ignore", bad, "--backends", "bins,libc", "traces/basic.trace")
        assert proc.returncode == 2 and why in proc.stderr, (bad, proc.stderr)
    listing.write_text("ALIGNMENT@mimalloc\nOOPS\n")
    proc = heaplab("replay", "--ignore", listing, "--backends", "bins", "traces/basic.trace")
    assert proc.returncode == 2 and f"{listing}:2: 'OOPS' is not RULE@BACKEND" in proc.stderr


def test_a_broken_backend_is_a_finding(heaplab_test, tmp_path):
    trace = mutant_trace(tmp_path)
    proc = heaplab_test("diff", "--backends", "bins,mutant-live-handout", trace)
    assert proc.returncode == 1
    assert f"DIVERGENCE mutant-live-handout: {trace}:73: operation 71 (alloc): OVERLAP: " in proc.stderr


def test_ids_one_backend_cannot_serve_are_retired(heaplab, tmp_path):
    body = "".join(f"alloc {i} 32\n" for i in range(1, 6)) + "".join(f"free {i}\n" for i in range(1, 6))
    trace = write_trace(tmp_path / "five.trace", body)
    proc = heaplab("diff", "--backends", "bins,guard:max_live=2", trace)
    assert proc.returncode == 0, proc.stderr
    assert "2 backends agree on 10 operations (3 ids retired" in proc.stdout


def test_a_one_sided_scope_failure_ends_the_comparison(heaplab, tmp_path):
    body = "".join(f"scope_enter {s}\nalloc {s} 8\n" for s in range(1, 260))
    trace = write_trace(tmp_path / "deep.trace", body)
    proc = heaplab("diff", "--backends", "bins,arena", trace)
    assert proc.returncode == 0, proc.stderr
    assert "ended at operation 510: scope_enter failed in arena only (OUT_OF_MEMORY)" in proc.stdout


def test_a_crashing_backend_is_named_at_its_operation(heaplab_test_release, tmp_path):
    """Beside two correct backends, the crash names its backend (its lane) and the
    operation index, as replay does."""
    trace = write_trace(tmp_path / "many.trace", "".join(f"alloc {i} 32\n" for i in range(1, 151)))
    proc = heaplab_test_release("diff", "--backends", "bins,crasher,arena", trace)
    assert proc.returncode == 1
    assert (f"DIVERGENCE crasher: {trace}:101: operation 99 (alloc): CRASH: crasher died of signal 11 "
            "(Segmentation fault)") in proc.stderr


@pytest.mark.parametrize("backend, how", PROCESS_ENDERS)
def test_a_backend_that_ends_its_process_is_a_finding(heaplab_test_release, tmp_path, backend, how):
    trace = write_trace(tmp_path / "many.trace", "".join(f"alloc {i} 32\n" for i in range(1, 151)))
    proc = heaplab_test_release("diff", "--backends", f"bins,{backend}", trace)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"DIVERGENCE {backend}: {trace}:101: operation 99 (alloc): CRASH: {how}" in proc.stderr


def test_a_blocking_backend_is_a_hang_within_the_timeout(heaplab_test_release, tmp_path):
    trace = write_trace(tmp_path / "hang.trace", "".join(f"alloc {i} 32\n" for i in range(1, 80)))
    proc = heaplab_test_release("diff", "--timeout", "0.5", "--backends", "bins,hanger", trace, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"DIVERGENCE hanger: {trace}:51: operation 49 (alloc): HANG: hanger made no progress for 0.5 s and was killed" in proc.stderr


def test_bad_usage(heaplab):
    assert heaplab("diff", "traces/").returncode == 2
    one = heaplab("diff", "--backends", "bins", "traces/")
    assert one.returncode == 2 and "at least two backends" in one.stderr
    assert heaplab("diff", "--backends", "bins,nosuch", "traces/").returncode == 2
    assert heaplab("diff", "--help").returncode == 0


def test_offset_exact_backends_must_hand_out_the_same_offsets(heaplab_test, tmp_path):
    proc = heaplab_test("diff", "--backends", "wasm,wasm,bins", "traces/scopes.trace")
    assert proc.returncode == 0, proc.stderr
    assert "3 backends agree on 42 operations (16 offsets compared)" in proc.stdout
    # wasm-shifted keeps the contract (the shadow model finds nothing) but starts its
    # heap 64 bytes later while declaring itself offset-exact with wasm
    assert heaplab_test("replay", "-q", "--backends", "wasm-shifted", "traces/").returncode == 0
    proc = heaplab_test("diff", "--backends", "wasm,wasm-shifted", "traces/basic.trace")
    assert proc.returncode == 1
    assert ("DIFFERENCE wasm: traces/basic.trace:6: operation 0 (alloc): OFFSET_DIFFERS: alloc of block id 1: "
            "wasm hands out offset 0xe00, wasm-shifted 0xe40 (group wasm32-core)") in proc.stderr


def test_a_diff_finding_is_written_and_replays_as_a_diff(heaplab_test, tmp_path):
    proc = heaplab_test("diff", "--findings", tmp_path, "--backends", "wasm,wasm-shifted", "traces/basic.trace")
    assert proc.returncode == 1
    repro = tmp_path / "basic.wasm.OFFSET_DIFFERS.trace"
    assert f"  reproducer: {repro}" in proc.stderr
    text = repro.read_text()
    assert "#@heaplab.backend=wasm,wasm-shifted\n" in text and "#@heaplab.rule=OFFSET_DIFFERS\n" in text
    for _ in range(5):  # no --backends: the finding's own, as a diff, the same finding every time
        again = heaplab_test("replay", "--findings", tmp_path / "again", repro)
        assert again.returncode == 1, again.stdout + again.stderr
        assert "OFFSET_DIFFERS: alloc of block id 1: wasm hands out offset 0xe00, wasm-shifted 0xe40" in again.stderr
    shrunk = heaplab_test("shrink", "-q", repro)
    assert shrunk.returncode == 0 and "OFFSET_DIFFERS on wasm" in shrunk.stdout, shrunk.stdout + shrunk.stderr
