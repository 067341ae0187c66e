"""`heaplab replay --threads`: a trace recorded from several threads replays on real
threads where the backend declares thread safety (libc), serialised elsewhere; a
race in a backend that declares thread safety falsely is a finding only there."""
import json
import subprocess

import pytest

from conftest import ROOT

RACE = ROOT / "tests/data/threads/race.trace"


@pytest.fixture(scope="module")
def threaded_trace(tmp_path_factory, heaplab_release):
    out = tmp_path_factory.mktemp("threaded")
    subprocess.run(["gcc", "-O1", "-w", "-pthread", "-o", out / "threads", ROOT / "tests/data/record/threads.c"],
                   check=True)
    trace = out / "t.trace"
    proc = heaplab_release("record", "-o", trace, "--", out / "threads")
    assert proc.returncode == 0 and ", 5 threads" in proc.stdout, proc.stdout + proc.stderr
    return trace


def runs_of(proc):
    return {r["backend"]: r for r in json.loads(proc.stdout)["results"]}


def test_a_recorded_threaded_program_replays_clean_on_real_threads(heaplab, threaded_trace):
    proc = heaplab("replay", "--threads", "--backends", "all", threaded_trace)
    assert proc.returncode == 0 and "10 runs: 10 clean" in proc.stdout, proc.stdout + proc.stderr
    for peer in ("libc", "jemalloc", "mimalloc", "tcmalloc"):
        assert f"threads {peer}: {threaded_trace} on 5 threads" in proc.stderr
    assert f"threads bins: {threaded_trace} serialised: the backend does not declare thread safety" in proc.stderr
    runs = runs_of(heaplab("replay", "--threads", "--json", "--backends", "libc,bins", threaded_trace))
    assert runs["libc"]["threads"] == 5 and runs["libc"]["trace_threads"] == 5
    assert runs["libc"]["ops"] == runs["bins"]["ops"] == 16004
    assert runs["bins"]["threads"] == 0 and runs["bins"]["trace_threads"] == 5


def test_serialised_is_the_default(heaplab, threaded_trace):
    runs = runs_of(heaplab("replay", "--json", "--backends", "libc", threaded_trace))
    assert runs["libc"]["threads"] == 0 and runs["libc"]["divergences"] == 0


def test_isolated_threaded_runs_and_the_shipped_threads_trace(heaplab, threaded_trace):
    proc = heaplab("replay", "-q", "--threads", "--isolate", "--backends", "libc", threaded_trace,
                   ROOT / "traces/threads.trace")
    assert proc.returncode == 0 and "2 runs: 2 clean" in proc.stdout, proc.stdout + proc.stderr


def test_a_false_thread_safety_claim_is_caught_only_on_real_threads(heaplab_test, tmp_path):
    serial = heaplab_test("replay", "-q", "--backends", "racy", RACE)
    assert serial.returncode == 0 and "1 runs: 1 clean" in serial.stdout, serial.stderr
    threaded = heaplab_test("replay", "--threads", "--backends", "racy", "--findings", tmp_path, RACE)
    assert threaded.returncode == 1, threaded.stdout + threaded.stderr
    assert "OVERLAP" in threaded.stderr and "threads racy: " in threaded.stderr
    assert list(tmp_path.glob("race.racy.OVERLAP*.trace"))
