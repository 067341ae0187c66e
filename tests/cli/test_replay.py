"""`heaplab replay` end to end: the shipped traces are clean on every backend, the
results document has its schema, planted bugs are found with the right rule, and a
crashing or hanging backend becomes a finding at the right operation."""
import json

import pytest

from conftest import ALL_BACKENDS, PEER_FINDINGS, ROOT, shipped_traces, write_trace, mutant_trace, PROCESS_ENDERS


def test_all_backends_replay_the_shipped_traces_clean(heaplab):
    # the checking runs (the timed ones run on every backend and trace in the README's
    # `make run`, whose report measures speed)
    proc = heaplab("replay", "--no-speed", "--backends", "all", "traces/")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the one known peer finding
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["backend", "trace", "ops"]
    assert {"bins", "arena", "guard", "caps", "wasm", "libc"} <= set(ALL_BACKENDS)  # read from `heaplab list --names`
    traces = shipped_traces()
    assert len(traces) >= 13  # eight synthetic, five recorded real programs
    runs = len(ALL_BACKENDS) * len(traces)
    found = len(PEER_FINDINGS)
    assert lines[-1] == f"{runs} runs: {runs - found} clean, {found} divergent"
    rows = [line.split() for line in lines[1:-1]]
    assert {row[0] for row in rows} == set(ALL_BACKENDS)
    results = {(row[0], row[1]): row[4] for row in rows}
    assert {key: r for key, r in results.items() if r != "clean"} == PEER_FINDINGS


def test_reference_sources_replay_clean(heaplab):
    proc = heaplab("replay", "--no-speed", "--backends",
                   "bins:source=static:size=4M,bins:source=linear:max_pages=64,bins:detect=0,"
                   "arena:source=static:size=4M,arena:source=linear:max_pages=64,arena:chunk=16K,"
                   "wasm:max_pages=64,wasm:max_pages=1", "traces/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 divergent" in proc.stdout


def test_json_document_has_the_schema(heaplab):
    proc = heaplab("replay", "--json", "--backends", "refs,libc", "traces/basic.trace")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema_version"] == 4
    assert {"os", "arch", "cpus"} <= set(doc["machine"])
    assert doc["build"]["sanitized"] is True  # make test's driver runs under ASan
    assert [r["backend"] for r in doc["results"]] == ["bins", "arena", "guard", "caps", "wasm", "wasm-module", "libc"]
    for r in doc["results"]:
        for key in ("backend", "trace", "ops", "skipped", "divergences", "peak_live_bytes",
                    "peak_footprint_bytes", "elapsed_ns", "ops_per_sec"):
            assert key in r, key
        assert r["trace"] == "traces/basic.trace"
        assert r["divergences"] == 0
        assert r["ops"] > 0 and r["peak_live_bytes"] > 0
    assert doc["results"][0]["peak_footprint_bytes"] >= doc["results"][0]["peak_live_bytes"]
    assert all(r["backend_ns"] is None for r in doc["results"])  # the shadow ran: calls not timed
    for r in doc["results"]:  # a 67-operation trace: timed, but too short to be a measure
        assert r["speed"]["steps"] == 67 and r["speed"]["measured"] is False
        assert r["speed"]["ns_per_op"] is None and r["ops_per_sec"] is None


def test_malloc_style_backends_are_timed_through_their_own_entry_points(heaplab_release):
    # a malloc-style backend's measure path calls its own malloc/free/realloc (direct),
    # a contract backend its table; heaplab's own cost is the null backend's on that path
    lib = "malloc:ex_@build/examples/libexmalloc.so:name=ex"
    proc = heaplab_release("replay", "--json", "--no-shadow", "--backends", f"bins,libc,jemalloc,{lib}",
                           "traces/real/perl-words.trace.zst")
    assert proc.returncode == 0, proc.stderr
    speed = {r["backend"]: r["speed"] for r in json.loads(proc.stdout)["results"]}
    assert {b: s["entry"] for b, s in speed.items()} == {"bins": "table", "libc": "direct", "jemalloc": "direct",
                                                          "ex": "direct"}
    assert all(s["measured"] and s["null_ns_per_op"] > 0 for s in speed.values())
    # the two paths' null figures are measured separately: a direct row never shows the table's
    assert speed["libc"]["null_ns_per_op"] == speed["jemalloc"]["null_ns_per_op"]
    assert speed["libc"]["null_ns_per_op"] != speed["bins"]["null_ns_per_op"]


def test_backend_time_is_measured_without_the_shadow(heaplab_release):
    proc = heaplab_release("replay", "--json", "--no-shadow", "--backends", "bins", "traces/basic.trace")
    r = json.loads(proc.stdout)["results"][0]
    assert 0 < r["backend_ns"] <= r["elapsed_ns"]


def test_release_json_is_not_marked_sanitized(heaplab_release):
    proc = heaplab_release("replay", "--json", "--backends", "bins", "traces/basic.trace")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["build"]["sanitized"] is False


def test_mutant_bins_is_caught_and_its_reproducer_replays(heaplab_test, tmp_path):
    trace = mutant_trace(tmp_path)
    clean = heaplab_test("replay", "--backends", "bins", trace)
    assert clean.returncode == 0, clean.stderr
    findings = tmp_path / "findings"
    proc = heaplab_test("replay", "--findings", findings, "--backends", "mutant-live-handout", trace)
    assert proc.returncode == 1
    assert "DIVERGENCE mutant-live-handout:" in proc.stderr
    assert ": OVERLAP: " in proc.stderr
    repro = findings / "reuse.mutant-live-handout.OVERLAP.trace"
    assert f"reproducer: {repro}" in proc.stderr
    text = repro.read_text()
    assert text.startswith("heaplab-trace 1\n")
    assert "#@heaplab.rule=OVERLAP" in text
    ops = [line for line in text.splitlines() if line and not line.startswith("#") and line != "end"][1:]
    # restricted to the ids the overlap depends on: the two blocks on the free list
    # (allocated and freed) and the two allocations that both got the head
    assert "#@heaplab.restricted=yes (2 of the 50 other block ids kept" in text
    assert len(ops) == 6, ops
    assert ops[-2:] == ["alloc 200 20", "alloc 201 20"]
    again = heaplab_test("replay", "--findings", tmp_path / "again", "--backends", "mutant-live-handout", repro)
    assert again.returncode == 1
    assert ": OVERLAP: " in again.stderr
    assert heaplab_test("replay", "--backends", "bins", repro).returncode == 0


@pytest.mark.parametrize("isolate", [[], ["--isolate"]])
def test_crashing_backend_is_a_finding_at_its_operation(heaplab_test_release, tmp_path, isolate):
    body = "".join(f"alloc {i} 32\n" for i in range(1, 151))
    trace = write_trace(tmp_path / "many.trace", "# two comment lines shift\n# the line numbers\n" + body)
    proc = heaplab_test_release("replay", *isolate, "--findings", tmp_path / "f", "--backends",
                                "crasher,bins", trace)
    assert proc.returncode == 1, proc.stderr
    # operation index 99 sits on line 103: the magic line and two comments come first
    assert (f"DIVERGENCE crasher: {trace}:103: operation 99 (alloc): CRASH: crasher died of signal 11 "
            "(Segmentation fault)") in proc.stderr
    # heaplab itself survived and ran the next backend
    assert "bins " in proc.stdout and "1 clean, 1 divergent" in proc.stdout


@pytest.mark.parametrize("backend, how", PROCESS_ENDERS)
def test_a_backend_that_ends_its_process_is_a_finding_at_its_operation(heaplab_test_release, tmp_path, backend, how):
    trace = write_trace(tmp_path / "many.trace", "".join(f"alloc {i} 32\n" for i in range(1, 151)))
    proc = heaplab_test_release("replay", "-q", "--findings", tmp_path / "f", "--backends", f"{backend},bins", trace)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"DIVERGENCE {backend}: {trace}:101: operation 99 (alloc): CRASH: {how}" in proc.stderr
    assert "2 runs: 1 clean, 1 divergent" in proc.stdout


def test_a_teardown_crash_names_the_block_the_same_every_time(heaplab_test_release, tmp_path):
    """tearer corrupts nothing the stream sees; freeing the leftover blocks (in id order)
    reaches its poisoned block, the third it handed out: block id 3 on every run."""
    trace = write_trace(tmp_path / "leaves.trace", "".join(f"alloc {i} 32\n" for i in range(1, 21)))
    seen = set()
    for _ in range(20):
        proc = heaplab_test_release("replay", "-q", "--findings", tmp_path / "f", "--backends", "tearer", trace)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        seen.add(proc.stderr.splitlines()[0])
    assert seen == {f"DIVERGENCE tearer: {trace}: end of the stream (20 operations): CRASH: teardown: free of "
                    "block id 3: tearer died of signal 11 (Segmentation fault)"}


def test_a_finding_in_the_stream_wins_over_a_teardown_crash(heaplab_test_release, tmp_path):
    # 60 calls: tearer's final heap check fails, then its teardown crashes on block 3
    trace = write_trace(tmp_path / "both.trace", "".join(f"alloc {i} 32\n" for i in range(1, 61)))
    proc = heaplab_test_release("replay", "-q", "--findings", tmp_path / "f", "--backends", "tearer", trace)
    assert proc.returncode == 1
    assert ": CHECK_FAILED: " in proc.stderr and "tearer: invented corruption" in proc.stderr, proc.stderr
    assert "teardown" not in proc.stderr.splitlines()[0]
    diff = heaplab_test_release("diff", "--backends", "bins,tearer", trace)
    assert diff.returncode == 1 and ": CHECK_FAILED: " in diff.stderr and "teardown" not in diff.stderr


def test_hanging_backend_is_a_hang_at_its_operation(heaplab_test_release, tmp_path):
    body = "".join(f"alloc {i} 32\n" for i in range(1, 80))
    trace = write_trace(tmp_path / "hang.trace", body)
    proc = heaplab_test_release("replay", "--isolate", "--timeout", "0.5", "--findings", tmp_path / "f",
                                "--backends", "hanger", trace, timeout=120)
    assert proc.returncode == 1
    assert f"{trace}:51: operation 49 (alloc): HANG: " in proc.stderr


def test_heap_checks_run_during_the_run_paced_or_every_n(heaplab_test_release, tmp_path):
    # rotter's check fails from its 5000th operation on; 12000 operations follow
    body = "".join(f"alloc {i} 24\nfree {i}\n" for i in range(1, 8501))
    trace = write_trace(tmp_path / "long.trace", body)

    def finding_index(*options):
        proc = heaplab_test_release("replay", "--findings", tmp_path / "f", "--backends", "rotter", *options, trace)
        assert proc.returncode == 1, proc.stderr
        assert ": CHECK_FAILED: check: CORRUPTED: rotter: invented corruption" in proc.stderr
        return int(proc.stderr.split(": operation ")[1].split()[0])

    paced = finding_index()  # the default: by time, at least 4096 operations apart
    assert 4999 <= paced < 17000, paced
    assert finding_index("--check-every", "1000") == 4999  # exactly every 1000: after op 4999
    assert finding_index("--check-every", "paced") >= 4999
    end = heaplab_test_release("replay", "--check-every", "0", "--findings", tmp_path / "f", "--backends",
                               "rotter", trace)
    assert end.returncode == 1
    assert ": end of the stream (17000 operations): CHECK_FAILED: " in end.stderr, end.stderr


def test_no_shadow_runs_without_checks(heaplab_test, tmp_path):
    trace = mutant_trace(tmp_path)
    proc = heaplab_test("replay", "--no-shadow", "--backends", "mutant-live-handout", trace)
    assert proc.returncode == 0  # nothing checks: the planted bug goes unseen
    assert "1 runs: 1 clean" in proc.stdout


def test_release_footprints_are_real(heaplab_release, tmp_path):
    """Footprints mean something only without sanitizers: on the release driver, 1000
    live 4 KiB blocks show in both backends' peak footprint (glibc's via mallinfo2)."""
    body = "".join(f"alloc {i} 4096\n" for i in range(1000)) + "".join(f"free {i}\n" for i in range(1000))
    trace = write_trace(tmp_path / "pages.trace", body)
    proc = heaplab_release("replay", "--json", "--backends", "bins,libc", trace)
    assert proc.returncode == 0, proc.stderr
    for r in json.loads(proc.stdout)["results"]:
        assert r["peak_live_bytes"] == 1000 * 4096
        assert r["peak_footprint_bytes"] >= 1000 * 4096, r


def test_the_real_traces_are_listed_with_their_figures():
    listing = (ROOT / "traces/real/README.md").read_text()
    real = sorted((ROOT / "traces/real").glob("*.trace.zst"))
    assert len(real) >= 5
    assert sum(p.stat().st_size for p in real) < 20 << 20  # the repository stays small
    for path in real:
        row = [l for l in listing.splitlines() if l.startswith(f"| `{path.name}` |")]
        assert len(row) == 1, path.name
        ops = int(row[0].split("|")[3])
        assert 10000 <= ops <= 1000000


def test_each_trace_is_read_once(heaplab, tmp_path):
    """A trace is read and checked once, then run: a named pipe, which can be read only
    once, replays (a second read would wait for a writer that never comes)."""
    import os
    import threading
    pipe = tmp_path / "once.trace"
    os.mkfifo(pipe)
    body = "heaplab-trace 1\n" + "".join(f"alloc {i} 16\nfree {i}\n" for i in range(1, 101)) + "end\n"
    writer = threading.Thread(target=lambda: pipe.write_text(body))
    writer.start()
    proc = heaplab("replay", "-q", "--backends", "bins", pipe, timeout=60)
    writer.join(timeout=5)
    assert proc.returncode == 0, proc.stderr
    assert "1 runs: 1 clean, 0 divergent" in proc.stdout


def test_a_reproducer_replays_on_its_own_backend_without_backends(heaplab, tmp_path):
    proc = heaplab("replay", "--no-speed", "--findings", tmp_path, "--backends", "mimalloc,bins", "traces/basic.trace")
    assert proc.returncode == 1
    repro = tmp_path / "basic.mimalloc.ALIGNMENT.trace"
    assert "#@heaplab.backend=mimalloc\n" in repro.read_text()
    again = heaplab("replay", "--no-speed", "--findings", tmp_path / "again", repro)
    assert again.returncode == 1 and "1 runs: 0 clean, 1 divergent" in again.stdout, again.stdout + again.stderr
    assert "ALIGNMENT: block id 24" in again.stderr and again.stdout.splitlines()[1].startswith("mimalloc ")
    shrunk = heaplab("shrink", "-q", repro)  # and shrinks without --backends
    assert shrunk.returncode == 0 and "ALIGNMENT on mimalloc" in shrunk.stdout, shrunk.stderr
    plain = heaplab("replay", "traces/basic.trace")  # no metadata: --backends is needed
    assert plain.returncode == 2
    assert "--backends LIST is required (traces/basic.trace names no backend" in plain.stderr
