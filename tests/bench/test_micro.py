"""The micro-benchmarks (bench/micro/, `make bench-micro`, `make bench-quick`) work end
to end: the binary runs every family on every backend and raw peer a tiny amount, a
peer that cannot load is skipped with its reason, and bench_quick.py's goal table is
right on a document whose numbers are known. Timings are never asserted."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from conftest import ALL_BACKENDS, ROOT

MICRO = ROOT / "build" / "bench-micro"
FAMILIES = ["pair/16", "pair/32", "pair/64", "pair/128", "pair/64K", "replace/10k", "replace/1M", "scope/64",
            "realloc/16-64K", "aligned/4K"]
RAW = ["raw:libc", "raw:jemalloc", "raw:mimalloc", "raw:tcmalloc"]
# everything but the 1M-block live set, whose making takes seconds a target
SMALL = "^(pair|replace/10k|scope|realloc|aligned)/"


def clean_env(**extra):
    """The environment without an enclosing make's jobserver (`make test` runs pytest)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def micro():
    proc = subprocess.run(["make", "-s", "build/bench-micro"], cwd=ROOT, env=clean_env(), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return MICRO


def run_micro(micro, out, pattern, env=None):
    proc = subprocess.run([str(micro), f"--benchmark_filter={pattern}", "--benchmark_min_time=0.001",
                           "--benchmark_format=json", f"--benchmark_out={out}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, json.loads(out.read_text())


def test_every_family_is_registered_for_every_backend_and_raw_peer(micro):
    proc = subprocess.run([str(micro), "--benchmark_list_tests=true"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    names = proc.stdout.split()
    assert len(ALL_BACKENDS) >= 9 and "bins" in ALL_BACKENDS
    expected = [f"{family}/{target}" for family in FAMILIES for target in ALL_BACKENDS + RAW]
    assert sorted(names) == sorted(expected)
    # family by family, so the targets of one family run side by side in time
    assert names[:len(ALL_BACKENDS) + len(RAW)] == [f"pair/16/{t}" for t in ALL_BACKENDS + RAW]


def test_a_tiny_run_measures_every_family_on_every_target(micro, tmp_path):
    _, doc = run_micro(micro, tmp_path / "micro.json", SMALL, env=clean_env())
    runs = {b["name"]: b for b in doc["benchmarks"]}
    assert not [k for k in doc["context"] if k.startswith("skipped:")]
    for family in FAMILIES:
        if family == "replace/1M":
            continue
        for target in ALL_BACKENDS + RAW:
            run = runs[f"{family}/{target}"]
            if (family, target) == ("replace/10k", "guard"):
                # guard declares about 8,000 live guarded blocks: the set cannot be made
                assert run["error_occurred"] and "CAPACITY" in run["error_message"], run
                continue
            assert not run.get("error_occurred"), run
            assert run["iterations"] > 0 and run["real_time"] > 0 and run["time_unit"] == "ns", run


def test_a_peer_that_cannot_load_is_skipped_with_its_reason(micro, tmp_path):
    """Without the static TLS reservation (no re-execution), jemalloc cannot load: both
    its targets are left out, named on stderr and in the JSON context; the rest run."""
    env = clean_env(HEAPLAB_REEXECUTED="1")
    env.pop("GLIBC_TUNABLES", None)
    proc, doc = run_micro(micro, tmp_path / "micro.json", "^pair/16/", env=env)
    assert "bench-micro: skipping jemalloc: create failed (UNSUPPORTED)" in proc.stderr
    assert "bench-micro: skipping raw:jemalloc: cannot load libjemalloc.so.2" in proc.stderr
    assert "static TLS" in doc["context"]["skipped:raw:jemalloc"]
    assert "jemalloc" in doc["context"]["skipped:jemalloc"]
    names = {b["name"] for b in doc["benchmarks"]}
    assert names == {f"pair/16/{t}" for t in ALL_BACKENDS + RAW if "jemalloc" not in t}


def test_make_bench_quick_runs_the_binary_and_prints_the_goal_table(micro, tmp_path):
    out = tmp_path / "quick.json"
    proc = subprocess.run(["make", "-s", "bench-quick", "MICRO_MIN_TIME=0.001", "MICRO_REPS=2",
                           "MICRO_FILTER=^pair/(16|32|64|128)/", f"MICRO_JSON={out}"], cwd=ROOT, env=clean_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert {b["run_type"] for b in doc["benchmarks"]} == {"iteration", "aggregate"}  # 2 repetitions
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("reference backends against the fastest peer")
    assert sum(1 for line in lines if line.startswith("pair/")) == 4 * 5  # four families, five references
    start = next(i for i, line in enumerate(lines) if line.startswith("adapter overhead"))
    assert [line.split()[0] for line in lines[start + 2:start + 6]] == ["libc", "jemalloc", "mimalloc", "tcmalloc"]


# ---------------------------------------------------------------- the goal table's arithmetic

def entry(name, cpu, unit="ns", run_type="iteration", run_name=None, error=None):
    """A Google Benchmark entry; its real time is off (a shared machine): CPU time counts."""
    e = {"name": name, "run_name": run_name or name, "run_type": run_type, "iterations": 1000,
         "real_time": cpu * 1.7, "cpu_time": cpu, "time_unit": unit}
    if error:
        e.update(error_occurred=True, error_message=error, iterations=0, real_time=0, cpu_time=0)
    return e


SYNTHETIC = {
    "context": {"date": "2026-01-01", "skipped:tcmalloc": "create failed (UNSUPPORTED): no library",
                "skipped:raw:tcmalloc": "cannot load libtcmalloc_minimal.so.4"},
    "benchmarks": [
        # bins: three repetitions (median 11) and an aggregate that must not count
        entry("pair/16/bins", 10.0), entry("pair/16/bins", 30.0), entry("pair/16/bins", 11.0),
        entry("pair/16/bins_mean", 999.0, run_type="aggregate", run_name="pair/16/bins"),
        entry("pair/16/arena", 0.002, unit="us"),
        entry("pair/16/guard", 0, error="the live set stopped at 8182 of 10000 blocks: CAPACITY"),
        entry("pair/16/libc", 12.0), entry("pair/16/mimalloc", 7.5),
        entry("pair/16/raw:libc", 8.0), entry("pair/16/raw:mimalloc", 5.0),
        entry("pair/32/bins", 20.0),
        entry("pair/32/libc", 10.5), entry("pair/32/mimalloc", 9.0),
        entry("pair/32/raw:libc", 6.0), entry("pair/32/raw:mimalloc", 7.0),
        entry("scope/64/wasm", 2.0, unit="us"),
        entry("scope/64/libc", 4000.0), entry("scope/64/raw:libc", 500.0),
    ],
}


@pytest.fixture(scope="module")
def quick():
    spec = importlib.util.spec_from_file_location("bench_quick", ROOT / "bench" / "bench_quick.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_load_results_takes_medians_units_and_errors(quick):
    results = quick.load_results(SYNTHETIC)
    assert list(results)[:3] == ["pair/16/bins", "pair/16/arena", "pair/16/guard"]
    bins = results["pair/16/bins"]
    assert (bins.family, bins.target, bins.ns, bins.runs) == ("pair/16", "bins", 11.0, [10.0, 30.0, 11.0])
    assert bins.real_ns == pytest.approx(11.0 * 1.7)
    assert results["pair/16/arena"].ns == pytest.approx(2.0)
    assert results["scope/64/wasm"].ns == pytest.approx(2000.0)
    guard = results["pair/16/guard"]
    assert guard.ns is None and "CAPACITY" in guard.error
    assert results["pair/16/raw:libc"].raw and not results["pair/16/libc"].raw
    assert quick.skipped_targets(SYNTHETIC) == {"tcmalloc": "create failed (UNSUPPORTED): no library",
                                                "raw:tcmalloc": "cannot load libtcmalloc_minimal.so.4"}


def test_goal_rows_compare_with_the_fastest_raw_and_adapter_peer(quick):
    rows = {(r.family, r.backend.target): r for r in quick.goal_rows(quick.load_results(SYNTHETIC))}
    assert set(rows) == {("pair/16", "bins"), ("pair/16", "arena"), ("pair/16", "guard"), ("pair/32", "bins"),
                         ("scope/64", "wasm")}
    bins = rows[("pair/16", "bins")]
    assert (bins.raw.target, bins.adapter.target) == ("raw:mimalloc", "mimalloc")
    assert bins.ratio(bins.raw) == pytest.approx(11 / 5) and bins.ratio(bins.adapter) == pytest.approx(11 / 7.5)
    arena = rows[("pair/16", "arena")]
    assert arena.ratio(arena.raw) == pytest.approx(2 / 5) and arena.ratio(arena.adapter) == pytest.approx(2 / 7.5)
    assert rows[("pair/16", "guard")].ratio(bins.raw) is None
    # pair/32: the fastest raw is libc's, the fastest adapter mimalloc
    b32 = rows[("pair/32", "bins")]
    assert (b32.raw.target, b32.adapter.target) == ("raw:libc", "mimalloc")
    assert b32.ratio(b32.raw) == pytest.approx(20 / 6) and b32.ratio(b32.adapter) == pytest.approx(20 / 9)
    wasm = rows[("scope/64", "wasm")]
    assert wasm.ratio(wasm.raw) == pytest.approx(4.0) and wasm.ratio(wasm.adapter) == pytest.approx(0.5)


def test_adapter_rows_subtract_the_raw_pair_and_judge_the_goal(quick):
    rows = {r.adapter: r for r in quick.adapter_rows(quick.load_results(SYNTHETIC))}
    assert set(rows) == {"libc", "mimalloc"}  # jemalloc absent, tcmalloc skipped
    assert rows["libc"].overhead == {"pair/16": pytest.approx(4.0), "pair/32": pytest.approx(4.5)}
    assert rows["mimalloc"].overhead == {"pair/16": pytest.approx(2.5), "pair/32": pytest.approx(2.0)}
    assert rows["libc"].worst == pytest.approx(4.5) and not rows["libc"].met
    assert rows["mimalloc"].worst == pytest.approx(2.5) and rows["mimalloc"].met


def test_the_printed_tables(tmp_path):
    doc = tmp_path / "synthetic.json"
    doc.write_text(json.dumps(SYNTHETIC))
    script = [sys.executable, str(ROOT / "bench" / "bench_quick.py")]
    proc = subprocess.run(script + [str(doc)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = {tuple(line.split()[:2]): line.split() for line in proc.stdout.splitlines()}
    assert rows[("pair/16", "bins")] == ["pair/16", "bins", "11.00", "raw:mimalloc", "5.00", "2.20x", "mimalloc",
                                         "7.50", "1.47x"]
    assert rows[("pair/16", "arena")][2:] == ["2.00", "raw:mimalloc", "5.00", "0.40x", "mimalloc", "7.50", "0.27x"]
    assert rows[("pair/16", "guard")][2] == "skipped" and "CAPACITY" in " ".join(rows[("pair/16", "guard")])
    assert rows[("scope/64", "wasm")][2:] == ["2000.0", "raw:libc", "500.0", "4.00x", "libc", "4000.0", "0.50x"]
    adapters = {line.split()[0]: line.split() for line in proc.stdout.splitlines() if line.startswith(("libc ",
                                                                                                     "mimalloc "))}
    assert adapters["libc"][1:] == ["+4.00", "+4.50", "-", "-", "+4.50", "missed"]
    assert adapters["mimalloc"][1:] == ["+2.50", "+2.00", "-", "-", "+2.50", "met"]
    assert "skipped target raw:tcmalloc: cannot load libtcmalloc_minimal.so.4" in proc.stdout
    strict = subprocess.run(script + ["--strict", str(doc)], capture_output=True, text=True)
    assert strict.returncode == 1  # libc misses the goal
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    broken = subprocess.run(script + [str(bad)], capture_output=True, text=True)
    assert broken.returncode == 2 and "bad.json" in broken.stderr
