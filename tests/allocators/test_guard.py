"""guard end to end, in the release drivers (the fault catcher is off under ASan,
which owns SIGSEGV): every access misuse it declares is caught and reported with the
block, the offset and the kind; a detection that does not fire and a legal access that
faults are findings; heaplab itself never dies of the fault."""
import json

from conftest import write_trace

ONE_OF_EACH = """alloc 1 100
alloc 2 24
touch 1 0 100 w
overflow 1 0
underflow 1 0
free 2
after_free 2 5
free 1
"""


def detections(stderr):
    return [line for line in stderr.splitlines() if line.startswith("detected ")]


def test_each_declared_access_misuse_is_caught_and_reported(heaplab_release, tmp_path):
    trace = write_trace(tmp_path / "access.trace", ONE_OF_EACH)
    proc = heaplab_release("replay", "--backends", "guard,guard:at=start", trace)
    assert proc.returncode == 0, proc.stderr
    found = detections(proc.stderr)
    # at=end: the block ends at its guard page; usable_size is 100 rounded to 16
    assert f"detected guard: {trace}:5: operation 3 (overflow): OVERFLOW of block id 1 at offset 112" in found
    assert f"detected guard: {trace}:8: operation 6 (after_free): USE_AFTER_FREE of block id 2 at offset 5" in found
    # at=start: the guard page is just before the block
    assert f"detected guard:at=start: {trace}:6: operation 4 (underflow): UNDERFLOW of block id 1 at offset -1" in found
    assert f"detected guard:at=start: {trace}:8: operation 6 (after_free): USE_AFTER_FREE of block id 2 at offset 5" in found
    assert len(found) == 4  # the kind each mode does not declare is skipped, not sent
    doc = json.loads(heaplab_release("replay", "--json", "--backends", "guard", trace).stdout)
    result = doc["results"][0]
    assert result["detections"] == 2
    assert {(d["kind"], d["block"], d["offset"]) for d in result["detected"]} == {
        ("OVERFLOW", 1, 112), ("USE_AFTER_FREE", 2, 5)}


def test_guard_lists_what_it_declares(heaplab_release):
    out = heaplab_release("list").stdout
    guard = out[out.index("guard      reference"):].split("\n")
    assert "at most" in guard[1] and "live blocks" in guard[1]  # its capacity, from the free mappings
    assert guard[3].strip() == "detects: INVALID_POINTER DOUBLE_FREE LAYOUT_MISMATCH OVERFLOW USE_AFTER_FREE"


def test_a_detection_that_does_not_fire_is_a_finding(heaplab_test_release, tmp_path):
    trace = write_trace(tmp_path / "access.trace", ONE_OF_EACH)
    proc = heaplab_test_release("replay", "--findings", tmp_path / "f", "--backends", "guard-leaky", trace)
    assert proc.returncode == 1
    assert (f"DIVERGENCE guard-leaky: {trace}:8: operation 6 (after_free): MISUSE_MISSED: after_free of block id 2 "
            "at offset 5") in proc.stderr


def test_a_legal_access_that_faults_is_a_finding_and_heaplab_goes_on(heaplab_test_release, tmp_path):
    trace = write_trace(tmp_path / "three.trace", "alloc 1 10\nalloc 2 20\nalloc 3 30\nfree 1\n")
    proc = heaplab_test_release("replay", "--findings", tmp_path / "f", "--backends", "guard-closed,guard", trace)
    assert proc.returncode == 1
    assert f"DIVERGENCE guard-closed: {trace}:4: operation 2 (alloc): ACCESS_FAULT: writing byte 0 of block id 3" \
        in proc.stderr
    assert "1 clean, 1 divergent" in proc.stdout  # the next backend ran


def test_capacity_is_declared_and_beyond_it_allocs_fail_legally(heaplab_release, tmp_path):
    trace = write_trace(tmp_path / "many.trace", "".join(f"alloc {i} 32\n" for i in range(1, 41)))
    doc = json.loads(heaplab_release("replay", "--json", "--backends", "guard:max_live=30", trace).stdout)
    result = doc["results"][0]
    assert result["divergences"] == 0
    assert result["failures"] == 10  # CAPACITY: legal, and the ids are retired
    assert result["peak_live_blocks"] == 30
    sampled = json.loads(heaplab_release("replay", "--json", "--backends", "guard:max_live=30:sample=4", trace).stdout)
    assert sampled["results"][0]["failures"] == 0  # sampling serves the rest from the bins sub-heap


def test_an_access_past_the_size_a_failed_realloc_left_is_skipped_not_a_miss(heaplab_release, tmp_path):
    # found by the mutational fuzzer (fuzz/findings/after-free-past-a-failed-realloc.input),
    # shrunk by `heaplab shrink`: guard cannot serve the 4 GiB realloc, so block 6
    # stays at size 0 here, and the trace's after_free at 7246 lies past it
    trace = tmp_path / "g.trace"
    trace.write_text("heaplab-trace 1\nalloc 6 0\nrealloc 6 4294967296\nfree 6\nafter_free 6 7246\nend\n")
    proc = heaplab_release("replay", "--backends", "guard", "--findings", tmp_path / "f", trace)
    assert proc.returncode == 0, proc.stderr
