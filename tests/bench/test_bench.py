"""The benchmark scripts work end to end (a small trace; the figures themselves are
measured by `make bench`, never asserted in tests)."""
import json
import re
import subprocess
import sys

import pytest

from conftest import ROOT


def test_generated_trace_is_valid_and_has_the_live_level(heaplab, tmp_path):
    trace = tmp_path / "gen.trace"
    subprocess.run([sys.executable, str(ROOT / "bench" / "gen_trace.py"), "--ops", "6000", "--live", "1000",
                    str(trace)], check=True)
    assert heaplab("validate", trace).returncode == 0
    proc = heaplab("replay", "--json", "--backends", "bins", trace)
    assert proc.returncode == 0
    peak = json.loads(proc.stdout)["results"][0]["peak_live_blocks"]
    assert 1000 <= peak <= 1600, peak  # the ramp reaches --live, the steady state hovers near it


def test_replay_bench_reports_throughput_and_ratio(heaplab_release, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "replay_bench.py"), "--rounds", "1", "--ops",
                           "20000", "--live", "2000", "--trace", str(tmp_path / "b.trace"), "--heaplab",
                           str(heaplab_release.path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr  # 1: the goal was not met on this run
    assert "shadow-checked throughput, median of 1: libc " in proc.stdout
    assert "the shadow's cost per operation: libc " in proc.stdout
    assert "throughput ratio to libc without the shadow (same process, same trace): bins " in proc.stdout


def test_fuzz_rates_compare_the_diff_target_with_the_bare_decoder():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "fuzz_rates.py"), "--seconds", "1", "--rounds", "1",
                           "--engines", "builtin"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    row = [l for l in proc.stdout.splitlines() if l.startswith("builtin ")][0].split()
    diff, decode, ratio = float(row[1]), float(row[2]), float(row[3])
    # the ratio is printed to 5 decimals and the rates to whole numbers: half a unit
    # of the last printed digit is rounding, not disagreement
    assert 0 < diff < decode and abs(ratio - diff / decode) <= 0.01 * ratio + 0.5e-5 + 1e-9
    jobs = re.search(r"^built-in --jobs 2: (\d+) exec/s against (\d+) for one job: ([\d.]+)x", proc.stdout, re.M)
    assert jobs and int(jobs.group(1)) > 0 and int(jobs.group(2)) > 0, proc.stdout
    assert abs(float(jobs.group(3)) - int(jobs.group(1)) / int(jobs.group(2))) < 0.02 + 1.0 / int(jobs.group(2))
    bad = subprocess.run([sys.executable, str(ROOT / "bench" / "fuzz_rates.py"), "--engines", "nosuch"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown engine nosuch" in bad.stderr


def test_record_overhead_reports_a_ratio_per_program():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "record_overhead.py"), "--rounds", "1"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = {l.split()[0]: l.split() for l in proc.stdout.splitlines()[1:]}
    assert set(rows) == {"python3", "gcc", "sort"}
    assert int(rows["python3"][-1]) > 100000  # PYTHONMALLOC=malloc: its objects reach malloc


def test_run_overhead_reports_both_ratios_and_the_yardstick():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run_overhead.py"), "--rounds", "1", "--backends",
                           "bins", "--programs", "python3"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    row = next(l.split() for l in proc.stdout.splitlines() if l.startswith("python3  bins"))
    plain, run, checked = float(row[2]), float(row[3]), float(row[6])
    assert abs(float(row[4]) - run / plain) <= 0.01 + 0.02 * run / plain  # the ratio is of the times shown
    assert abs(float(row[7]) - checked / plain) <= 0.01 + 0.02 * checked / plain
    assert int(row[-1]) > 1000000  # 100,000 dicts with every object through the backend
    assert re.search(r"^python3  yardstick: jemalloc through the shim [\d.]+ s over jemalloc preloaded directly "
                     r"[\d.]+ s: [\d.]+x", proc.stdout, re.M), proc.stdout


def test_speed_bench_sets_heaplab_beside_the_hand_written_loop(tmp_path):
    """bench/speed_bench.py on one real trace, one round: a row per peer, whose ratio is
    heaplab's ns/op over the loop's (no timing is asserted: the gate is the bench's)."""
    subprocess.run(["make", "-s", "build/bench/yardstick"], cwd=ROOT, check=True)
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "git-log.trace.zst").write_bytes((ROOT / "traces" / "real" / "git-log.trace.zst").read_bytes())
    out = tmp_path / "speed.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "speed_bench.py"), "--rounds", "1", "--traces",
                           str(traces), "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 1: the gate failed on a loaded machine
    rows = json.loads(out.read_text())
    assert [r["peer"] for r in rows] == ["libc", "jemalloc", "mimalloc", "tcmalloc"]
    for r in rows:
        assert r["trace"] == "git-log" and r["loop_ns"] > 0 and r["heaplab_ns"] > 0 and r["null_ns"] > 0
        assert r["ratio"] == pytest.approx(r["heaplab_ns"] / r["loop_ns"])  # one round: the pair's ratio
    assert "heaplab / hand-written loop" in proc.stdout


def test_yardstick_refuses_what_it_does_not_run(tmp_path):
    subprocess.run(["make", "-s", "build/bench/yardstick"], cwd=ROOT, check=True)
    trace = tmp_path / "t.trace"
    trace.write_text("heaplab-trace 1\nalloc 1 16\nscope_enter 1\nend\n")
    proc = subprocess.run([str(ROOT / "build" / "bench" / "yardstick"), str(trace)], capture_output=True, text=True)
    assert proc.returncode == 2 and "t.trace:3: 'scope_enter' is not alloc, free or realloc" in proc.stderr
    trace.write_text("heaplab-trace 1\nalloc 1 16\nalloc 2 8 fail=OUT_OF_MEMORY\nfree 1\nend\n")
    proc = subprocess.run([str(ROOT / "build" / "bench" / "yardstick"), "--lib", "null", str(trace)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout)["ops"] == 2  # the fail= alloc is not run


def test_wasm_bench_prints_both_allocators_and_the_harness(tmp_path):
    """`make bench-wasm`'s runner on a small mix: both modules' ns/op, the ratio and the
    harness's own cost are printed (the figures are measured by `make bench-wasm`)."""
    proc = subprocess.run(["make", "-s", "build/heaplab-alloc.min.wasm", "build/dlmalloc.min.wasm",
                           "build/heaplab-v8-runner.mjs"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(["node", "build/heaplab-v8-runner.mjs", "--bench", "build/heaplab-alloc.min.wasm",
                           "build/dlmalloc.min.wasm", "--ops", "20000", "--rounds", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "20000 calls (1000 live blocks of 1..1024 bytes), median of 1 rounds" in out, out
    for name in ("heaplab", "dlmalloc", "harness"):
        assert re.search(rf"^  {name} +\d+\.\d ns/op", out, re.M), out
    assert re.search(r"ratio heaplab/dlmalloc: \d+\.\d{3}x  \(median of the rounds. ratios; range \d+\.\d{3}-\d+\.\d{3}\)", out), out
    bad = subprocess.run(["node", "build/heaplab-v8-runner.mjs", "--bench", "build/heaplab-alloc.min.wasm"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "usage:" in bad.stderr
    # the modules swapped: each lacks the calls its loop makes
    bad = subprocess.run(["node", "build/heaplab-v8-runner.mjs", "--bench", "build/dlmalloc.min.wasm",
                          "build/heaplab-alloc.min.wasm", "--ops", "2", "--rounds", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "build/dlmalloc.min.wasm: exports no __alloc, __free" in bad.stderr, bad.stderr


def test_wasm_yardstick_times_both_modules_in_a_loop_of_its_own(tmp_path):
    """bench/wasm_yardstick.mjs, the plain loop `make bench-wasm` checks the runner's
    figures against: both modules' ns/op and their ratio, and the floor (a module that
    does no allocator work) below both; bad usage and a file that is not a module exit 2
    with a message."""
    proc = subprocess.run(["make", "-s", "build/heaplab-alloc.min.wasm", "build/dlmalloc.min.wasm",
                           "build/bench/wasm-floor.wasm"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    yardstick = ["node", "bench/wasm_yardstick.mjs"]
    proc = subprocess.run(yardstick + ["build/heaplab-alloc.min.wasm", "build/dlmalloc.min.wasm",
                                       "build/bench/wasm-floor.wasm", "--ops", "20000", "--rounds", "3"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "20000 calls (1000 live blocks of 1..1024 bytes), 3 rounds" in proc.stdout, proc.stdout
    for name in ("heaplab", "dlmalloc"):
        assert re.search(rf"^  {name} +\d+\.\d ns/op$", proc.stdout, re.M), proc.stdout
    assert re.search(r"^  ratio heaplab/dlmalloc: \d+\.\d{3}x$", proc.stdout, re.M), proc.stdout
    floor = re.search(r"^  floor +(\d+\.\d) ns/op  \(build/bench/wasm-floor.wasm: .*; (\d+\.\d{3})x dlmalloc's\)$",
                      proc.stdout, re.M)
    assert floor, proc.stdout
    assert float(floor.group(2)) > 0
    bad = subprocess.run(yardstick + ["build/heaplab-alloc.min.wasm", "--ops", "3"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "usage:" in bad.stderr
    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"not a module")
    bad = subprocess.run(yardstick + [str(junk), "build/dlmalloc.min.wasm", "--ops", "2"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and f"{junk}: " in bad.stderr, bad.stderr
    bad = subprocess.run(yardstick + ["build/heaplab-alloc.min.wasm", "build/heaplab-alloc.min.wasm", "--ops", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "build/heaplab-alloc.min.wasm: exports no malloc, free" in bad.stderr, bad.stderr
