"""The planted-bug mutants of fuzz/mutants/: the built-in fuzzer must catch each one
with a rule its file names, within a fixed execution budget (wall time is only a
safety stop, so a slow machine cannot make this flaky), and the finding it writes must
replay as the same rule on the mutant and clean on the reference. Two campaigns run at
a time; `make test-mutants` gives each the full budget and reports timings."""
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ROOT, binary

sys.path.insert(0, str(ROOT / "fuzz" / "mutants"))
import campaign  # noqa: E402

BUDGET = 1000  # executions; on seeds 1-10 every mutant is caught well within it
SEEDS = (1, 2)
MUTANTS = campaign.mutants()
REFERENCE = {"bins": "bins", "arena": "arena", "caps": "caps"}


@pytest.fixture(scope="module")
def campaigns(tmp_path_factory):
    heaplab = binary("HEAPLAB_TEST_RELEASE", "build/release/heaplab-test")
    scratch = tmp_path_factory.mktemp("mutants")
    with ThreadPoolExecutor(2) as pool:
        jobs = {(name, seed): pool.submit(campaign.run_one, heaplab, name, seed, BUDGET, 120,
                                          scratch / f"{name}-{seed}")
                for name, _, _ in MUTANTS for seed in SEEDS}
        return {key: job.result() for key, job in jobs.items()}


def test_there_are_at_least_eight_distinct_mutants():
    assert len(MUTANTS) >= 8
    assert len({name for name, _, _ in MUTANTS}) == len(MUTANTS)
    for _, path, expect in MUTANTS:
        assert expect and all(rule.isupper() for rule in expect), path


@pytest.mark.parametrize("name,path,expect", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_each_mutant_is_caught_with_its_rule(campaigns, heaplab_test_release, name, path, expect, tmp_path):
    for seed in SEEDS:
        result = campaigns[(name, seed)]
        assert result["caught"], f"{name} seed {seed} not caught in {BUDGET} execs: {result['message']}"
        assert result["rule"] in expect, f"{name} seed {seed}: caught as {result['rule']}: {result['message']}"
        assert result["execs"] <= BUDGET
        # the written finding is a reproducer: the same rule on the mutant, clean on its reference
        trace = result["trace"]
        again = heaplab_test_release("replay", "--check-every", "1", "--backends", name, "--findings", tmp_path, trace)
        assert again.returncode == 1 and f": {result['rule']}: " in again.stderr, again.stderr
        reference = path.read_text().split('#include "')[-1].split(".c")[0]
        assert heaplab_test_release("replay", "--check-every", "1", "--backends", REFERENCE[reference],
                                    trace).returncode == 0


def test_the_references_and_libc_are_never_flagged_in_the_same_budget(heaplab_release, tmp_path):
    proc = heaplab_release("fuzz", "--backends", "refs,libc", "--seed", "1", "--runs", str(BUDGET), "--time", "300",
                           "-q", "--findings", tmp_path, timeout=400)
    assert proc.returncode == 0, proc.stderr
    assert f" {BUDGET} execs in " in proc.stdout


def test_the_campaign_script_reports_a_catch_and_refuses_bad_usage(tmp_path):
    import subprocess
    script = ROOT / "fuzz" / "mutants" / "campaign.py"
    proc = subprocess.run([sys.executable, script, "--runs", "500", "--time", "60", "--seeds", "3",
                           "mutant-large-align"], capture_output=True, text=True, timeout=200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "mutant-large-align" in proc.stdout and "ALIGNMENT" in proc.stdout
    assert proc.stdout.rstrip().endswith("1 caught, 0 missed")
    bad = subprocess.run([sys.executable, script, "no-such-mutant"], capture_output=True, text=True)
    assert bad.returncode == 2 and "no such mutant" in bad.stderr
