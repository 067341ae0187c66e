"""`heaplab vet SPEC` end to end, as an allocator author runs it: the example library
and tcmalloc pass; a planted bug fails with its rule and a reproducer that replays to
it; libraries that crash, hang or exit while loading, or crash on their first call,
fail without taking heaplab down; bad usage is exit 2. Budgets are small (--time 1)."""
import json
import os

import pytest

EXAMPLE = "malloc:ex_@build/examples/libexmalloc.so"
ROWS = ["loads", "alignment", "sizes", "realloc", "scopes", "misuse", "caps", "check", "oom", "fuzz", "traces", "threads",
        "speed", "memory", "sandbox"]


def vet(heaplab, spec, tmp_path, *args, env=None, speed=False):
    """vet with a 1 s fuzzing budget and (unless SPEED) without the report beside the peers."""
    return heaplab("vet", spec, "--time", "1", "--out", tmp_path / "vet", "--json", *([] if speed else ["--no-speed"]),
                   *args, env=dict(os.environ, **(env or {})), timeout=600)


def rows(proc):
    doc = json.loads(proc.stdout)
    return doc, {r["property"]: r for r in doc["rows"]}


def test_the_example_library_and_tcmalloc_pass(heaplab_release, tmp_path):
    proc = vet(heaplab_release, EXAMPLE, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc, got = rows(proc)
    assert doc["verdict"] == "PASS" and doc["label"] == "libexmalloc.so"
    assert list(got) == ROWS
    for passed in ("loads", "alignment", "sizes", "realloc", "scopes", "check", "fuzz", "traces"):
        assert got[passed]["status"] == "PASS", got[passed]
    assert got["traces"]["detail"].startswith("5 traces, ")  # the shipped real ones
    # what it does not declare is not checked, and says why
    assert got["misuse"]["status"] == "NOT CHECKED" and "declares no misuse" in got["misuse"]["detail"]
    assert got["threads"]["status"] == "NOT CHECKED" and "thread safety" in got["threads"]["detail"]
    assert got["sandbox"]["status"] == "PASS" and "under a seccomp filter" in got["sandbox"]["detail"]
    assert doc["sandboxed"] is True
    # tcmalloc declared thread-safe: the threaded replay runs too
    proc = vet(heaplab_release, "malloc:tc_@libtcmalloc_minimal.so.4:thread_safe=1", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc, got = rows(proc)
    assert doc["verdict"] == "PASS" and got["threads"]["status"] == "PASS", got["threads"]
    # tcmalloc exports no tc_check: its heap check is not checked, and says why
    assert got["check"]["status"] == "NOT CHECKED" and "exports no tc_check" in got["check"]["detail"]


def test_the_table_a_person_reads(heaplab_release, tmp_path):
    proc = heaplab_release("vet", EXAMPLE, "--time", "1", "--out", tmp_path / "vet", "--traces", "traces/basic.trace",
                           "--no-speed")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"heaplab vet {EXAMPLE}" and lines[-1] == "verdict: PASS"
    assert any(line.startswith("traces     PASS        6 traces, ") for line in lines), proc.stdout
    assert "vet: fuzz       PASS" in proc.stderr  # progress, a row at a time


def test_a_planted_bug_fails_with_its_rule_and_a_reproducer(heaplab_release, heaplab_test_release, tmp_path):
    proc = vet(heaplab_release, "malloc:ff_@build/tests/libmalloc_firstfit.so", tmp_path, "--time", "10")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc, got = rows(proc)
    assert doc["verdict"] == "FAIL"
    failed = [r for r in doc["rows"] if r["status"] == "FAIL"]
    assert failed, doc
    for r in failed:
        assert r["rule"] and os.path.exists(r["reproducer"]), r
        again = heaplab_release("replay", r["reproducer"])
        assert again.returncode == 1 and f": {r['rule']}: " in again.stderr, again.stderr
    # a reference backend's mutant, in the test build: its conformance row names the rule
    # two traces of the user's with the same bug: every trace runs, the row names both
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("a", "b"):
        (mine / f"{name}.trace").write_text("heaplab-trace 1\nalloc 1 100 align=8192\nfree 1\nend\n")
    proc = vet(heaplab_test_release, "mutant-large-align", tmp_path, "--no-shipped", "--traces", mine, "--seed", "3")
    doc, got = rows(proc)
    assert proc.returncode == 1 and got["alignment"]["status"] == "FAIL" and got["alignment"]["rule"] == "ALIGNMENT"
    traces = got["traces"]
    assert traces["status"] == "FAIL" and traces["rule"] == "ALIGNMENT" and f"{mine}/a.trace" in traces["detail"]
    assert f"; also ALIGNMENT on {mine}/b.trace, reproducer " in traces["detail"], traces


@pytest.mark.parametrize("name, said", [
    ("ctor_crash", "died of signal 11"),
    ("ctor_exit", "ended its process (exit status 0)"),
    ("ctor_hang", "made no progress"),
])
def test_a_library_that_dies_or_hangs_loading_fails_and_heaplab_goes_on(heaplab_release, tmp_path, name, said):
    proc = vet(heaplab_release, f"./build/tests/plugin_{name}.so", tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc, got = rows(proc)
    assert doc["verdict"] == "FAIL" and got["loads"]["status"] == "FAIL" and said in got["loads"]["detail"]
    assert "fuzz" not in got  # nothing else runs a library that does not load


def test_a_library_that_crashes_on_its_first_call_fails(heaplab_release, tmp_path):
    proc = vet(heaplab_release, EXAMPLE, tmp_path, env={"EXMALLOC_CRASH_AFTER": "1"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc, got = rows(proc)
    assert got["loads"]["status"] == "PASS"  # making an instance calls no malloc
    assert got["alignment"]["status"] == "FAIL" and got["alignment"]["rule"] == "CRASH", got["alignment"]
    assert "operation 0 " in got["alignment"]["detail"]


def test_a_library_that_exits_on_its_first_call_fails_and_vet_finishes(heaplab_release, tmp_path):
    """tests/backends/malloc_sandbox.c with SANDBOX_DO=exit: every row that calls it
    fails, at operation 0, and vet still prints its whole verdict. (One that hangs on
    its first call: tests/fuzz/test_fuzz.py; every row would spend the timeout several
    times over, writing its reproducer.)"""
    rule, said = "CRASH", "ended its process (exit status 0) before the run was over"
    proc = vet(heaplab_release, "malloc:ex_@build/tests/libmalloc_sandbox.so", tmp_path, "--no-shipped",
               "--timeout", "1", env={"SANDBOX_DO": "exit"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc, got = rows(proc)
    assert list(got) == ROWS and doc["verdict"] == "FAIL"
    assert got["loads"]["status"] == "PASS"  # making an instance calls no malloc
    for failed in ("alignment", "sizes", "realloc", "scopes", "fuzz"):
        assert got[failed]["status"] == "FAIL" and got[failed]["rule"] == rule, got[failed]
        assert said in got[failed]["detail"], got[failed]
    assert "operation 0 " in got["alignment"]["detail"]
    assert got["sandbox"]["status"] == "PASS"  # neither is a refused system call


def test_bad_usage(heaplab_release, tmp_path):
    for args, said in ((["vet"], "expected one backend"), (["vet", "bins", "arena"], "expected one backend"),
                       (["vet", "nosuch"], "unknown backend 'nosuch'"), (["vet", "bins,arena"], "not one backend"),
                       (["vet", "bins", "--time", "soon"], "--time 'soon'"),
                       (["vet", "bins", "--seed", "x"], "--seed 'x'"),
                       (["vet", "bins", "--traces", tmp_path / "missing"], "missing")):
        proc = heaplab_release(*args)
        assert proc.returncode == 2 and said in proc.stderr, (args, proc.stderr)
    assert heaplab_release("vet", "--help").returncode == 0


def test_speed_and_memory_beside_the_peers_measured_and_judged_under_a_budget(heaplab_release, tmp_path):
    """One real trace (--no-shipped --traces): the report beside glibc, jemalloc,
    mimalloc and tcmalloc is written under --out; the rows show the figures and are
    judged only under --budget. The slowed build of the example library is several times
    slower than glibc (tests/backends/malloc_slow.c), so a 1.05x budget fails it."""
    trace = "traces/real/sqlite-index.trace.zst"
    proc = vet(heaplab_release, EXAMPLE, tmp_path, "--no-shipped", "--traces", trace, speed=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc, got = rows(proc)
    for row in ("speed", "memory"):
        assert got[row]["status"] == "MEASURED", got[row]
        assert "glibc" in got[row]["detail"] and "tcmalloc" in got[row]["detail"], got[row]
        assert os.path.exists(got[row]["report"]), got[row]
    assert got["traces"]["detail"].startswith("1 traces, ")
    results = json.loads((tmp_path / "vet/report/heaplab-results.json").read_text())["results"]
    assert {r["backend"] for r in results} == {"libexmalloc.so", "libc", "jemalloc", "mimalloc", "tcmalloc"}
    proc = vet(heaplab_release, EXAMPLE, tmp_path, "--no-shipped", "--traces", trace,
               "--budget", "speed=100x:glibc,frag=100x:best", speed=True)
    doc, got = rows(proc)
    assert proc.returncode == 0 and got["speed"]["status"] == "PASS" and got["memory"]["status"] == "PASS", doc
    slow = "malloc:ex_@build/tests/libmalloc_slow.so"
    proc = vet(heaplab_release, slow, tmp_path, "--no-shipped", "--traces", trace, "--budget", "speed=1.05x:glibc",
               speed=True)
    doc, got = rows(proc)
    assert proc.returncode == 1 and doc["verdict"] == "FAIL" and got["speed"]["status"] == "FAIL", doc
    assert "budget 1.05x glibc: over" in got["speed"]["detail"]
    for bad in ("speed=2x", "speed=0.5x:glibc", "latency=2x:glibc", "speed=2x:nobody"):
        proc = heaplab_release("vet", EXAMPLE, "--budget", bad)
        assert proc.returncode == 2 and "--budget" in proc.stderr, (bad, proc.stderr)


def test_a_library_that_opens_a_file_for_writing_fails_sandbox_and_the_file_never_exists(heaplab_release, tmp_path):
    target = tmp_path / "written"
    spec = "malloc:ex_@build/tests/libmalloc_sandbox.so"
    proc = vet(heaplab_release, spec, tmp_path, "--no-shipped", env={"SANDBOX_DO": f"write={target}"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc, got = rows(proc)
    assert doc["verdict"] == "FAIL" and doc["sandboxed"] is True
    sandbox = got["sandbox"]
    assert sandbox["status"] == "FAIL" and sandbox["rule"] == "SANDBOX", sandbox
    assert f'openat "{target}"' in sandbox["detail"] and "opens a file for writing" in sandbox["detail"]
    assert got["alignment"]["rule"] == "SANDBOX" and os.path.exists(sandbox["reproducer"])
    assert not target.exists()
    # --no-sandbox: it runs unconfined, the file is written, and the verdict says so
    proc = heaplab_release("vet", spec, "--time", "1", "--out", tmp_path / "vet2", "--no-speed", "--no-shipped",
                           "--no-sandbox", env=dict(os.environ, SANDBOX_DO=f"write={target}"), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "verdict: PASS (NOT SANDBOXED: --no-sandbox)"
    assert "sandbox    NOT CHECKED NOT SANDBOXED (--no-sandbox)" in proc.stdout
    assert target.exists()


def test_a_heap_check_that_fails_for_a_moment_fails_the_check_row(heaplab_release, tmp_path):
    """tests/backends/malloc_badcheck.c: its check reports a broken heap only while three
    blocks are live, so the conformance rows (checked at their end) pass, and the check
    row (a check after every operation) fails with CHECK_FAILED and a reproducer that
    replays to it at the same operation."""
    proc = vet(heaplab_release, "malloc:ex_@build/tests/libmalloc_badcheck.so", tmp_path, "--no-shipped", "--time", "0")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc, got = rows(proc)
    for passed in ("alignment", "sizes", "realloc", "scopes"):
        assert got[passed]["status"] == "PASS", got[passed]
    check = got["check"]
    assert check["status"] == "FAIL" and check["rule"] == "CHECK_FAILED", check
    assert "free list: a node points into a live block" in check["detail"]
    again = heaplab_release("replay", "--findings", tmp_path / "again", check["reproducer"])
    assert again.returncode == 1 and ": CHECK_FAILED: " in again.stderr, again.stderr


def oom_row(heaplab, spec, tmp_path):
    proc = vet(heaplab, spec, tmp_path, "--no-shipped", "--time", "0")
    doc, got = rows(proc)
    return proc, got["oom"]


def test_the_oom_row_caps_a_built_in_and_says_what_came_back(heaplab_release, tmp_path):
    """Under a 1 MiB static source (wasm: 16 pages), 512 blocks of 4 KiB are asked for:
    some served, the rest refused with the heap unchanged (the shadow model judges each
    refusal), then 64 again after every one was freed. arena, guard and wasm serve all
    64 again; bins never reuses its big blocks (by design): shown, not judged."""
    import re
    for spec, cap, back in (("arena", "source=static:size=1M", 64), ("guard", "source=static:size=1M", 64),
                            ("wasm", "max_pages=16", 64), ("bins", "source=static:size=1M", 0)):
        proc, oom = oom_row(heaplab_release, spec, tmp_path)
        assert oom["status"] == "PASS", (spec, oom)
        m = re.search(r"under (\S+): (\d+) of 512 blocks of 4 KiB served, (\d+) refused with the heap unchanged; "
                      r"after every one was freed, (\d+) of 64 served again", oom["detail"])
        assert m and m.group(1) == cap, (spec, oom["detail"])
        served, refused = int(m.group(2)), int(m.group(3))
        assert served + refused == 512 and 0 < served < 256 and refused > 256, (spec, oom["detail"])
        assert int(m.group(4)) == back, (spec, oom["detail"])
        assert ("did not come back" in oom["detail"]) == (back == 0)
    proc, oom = oom_row(heaplab_release, EXAMPLE, tmp_path)
    assert oom["status"] == "NOT CHECKED" and "no cap to give it" in oom["detail"]
    proc, oom = oom_row(heaplab_release, "caps", tmp_path)
    assert oom["status"] == "NOT CHECKED" and "cannot cap its memory" in oom["detail"]


def test_an_allocator_that_crashes_when_memory_runs_out_fails_the_oom_row(heaplab_test_release, tmp_path):
    """arena-oom-unchecked (tests/backends/arena_oom_unchecked.c) writes through the null
    pointer its exhausted source returns: the oom row is a CRASH with a reproducer
    that carries the capped spec and replays to it."""
    proc, oom = oom_row(heaplab_test_release, "arena-oom-unchecked", tmp_path)
    assert proc.returncode == 1
    assert oom["status"] == "FAIL" and oom["rule"] == "CRASH", oom
    assert "arena-oom-unchecked:source=static:size=1M died of signal 11" in oom["detail"]
    again = heaplab_test_release("replay", "--findings", tmp_path / "again", oom["reproducer"])
    assert again.returncode == 1 and ": CRASH: " in again.stderr, again.stderr
    proc, oom = oom_row(heaplab_test_release, "arena", tmp_path)  # the same arena, checked: passes
    assert oom["status"] == "PASS", oom


def test_a_row_that_passes_over_an_ignored_finding_names_it(heaplab_test_release, tmp_path):
    proc = vet(heaplab_test_release, "mutant-large-align", tmp_path, "--no-shipped", "--time", "1",
               "--ignore", "ALIGNMENT@mutant-large-align")
    doc, got = rows(proc)
    assert got["alignment"]["status"] == "PASS", got["alignment"]
    assert "; ignored (--ignore): ALIGNMENT at operation " in got["alignment"]["detail"]
    assert "of vet-alignment.trace" in got["alignment"]["detail"]
    assert "; ignored (--ignore): " in got["fuzz"]["detail"] and "findings on inputs" in got["fuzz"]["detail"]
    assert "ignored" not in got["sizes"]["detail"]  # named once, in the row it came in
