"""`heaplab fuzz`, the built-in differential fuzzer, as a user runs it: fixed seeds
and input budgets (--runs), never wall time, so a noisy machine cannot make a test
flaky."""
import re
import json

from conftest import write_trace  # noqa: F401  (the shared fixtures)


def test_the_references_and_libc_agree_for_a_budget(heaplab_release, tmp_path):
    proc = heaplab_release("fuzz", "--backends", "refs,libc", "--seed", "7", "--runs", "150", "-q",
                           "--findings", tmp_path / "f", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "fuzz: seed 7: 150 execs in " in proc.stdout
    assert "15/15 operation kinds, 0 findings" in proc.stdout


def test_a_planted_bug_is_found_and_written_so_it_replays(heaplab_test, tmp_path):
    findings = tmp_path / "f"
    proc = heaplab_test("fuzz", "--backends", "bins,mutant-live-handout", "--seed", "1", "--runs", "200", "-q",
                        "--findings", findings, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "DIVERGENCE mutant-live-handout: input " in proc.stderr
    records = list(findings.glob("*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert record["backends"] == ["bins", "mutant-live-handout"] and record["seed"] == 1
    trace = records[0].with_suffix(".trace")
    assert records[0].with_suffix(".input").exists()
    again = heaplab_test("replay", "--check-every", "1", "--findings", tmp_path / "r", "--backends", "mutant-live-handout",
                         trace)
    assert again.returncode == 1  # the written trace shows the bug again
    assert heaplab_test("replay", "--backends", "bins", trace).returncode == 0


def test_a_crashing_backend_is_a_finding_and_the_fuzzer_survives(heaplab_test_release, tmp_path):
    proc = heaplab_test_release("fuzz", "--backends", "crasher", "--seed", "1", "--runs", "100", "--keep-going",
                                "-q", "--findings", tmp_path / "f", timeout=300)
    assert proc.returncode == 1
    assert re.search(r"DIVERGENCE crasher: input \d+ \(seed 1\)(?: after the \d+ before it)?: operation \d+ \(\w+\): CRASH: crasher died of signal 11",
                     proc.stderr), proc.stderr
    assert "fuzz: seed 1: 100 execs in " in proc.stdout  # --keep-going: it went on to the budget
    assert "1 finding" in proc.stdout  # the same crash again is not a new finding


def test_a_backend_that_crashes_or_exits_is_named_with_its_operation(heaplab_test_release, tmp_path):
    """Beside a correct backend, a segfault and an _exit(0) are findings naming the
    backend and the operation (the 100th call to it), never a false clean."""
    for backend, how in [("crasher", "died of signal 11"), ("exiter", "ended its process (exit status 0)")]:
        proc = heaplab_test_release("fuzz", "--backends", f"bins,{backend}", "--seed", "1", "--runs", "200", "-q",
                                    "--findings", tmp_path / backend, timeout=300)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        match = re.search(rf"DIVERGENCE {backend}: input (\d+) \(seed 1\)(?: after the \d+ before it)?: operation (\d+) \(\w+\): CRASH: {backend} "
                          rf"{re.escape(how)}",
                          proc.stderr)
        assert match, proc.stderr
        written = tmp_path / backend / f"fuzz-1-{match.group(1)}.CRASH.trace"
        again = heaplab_test_release("replay", "-q", "--findings", tmp_path / "again", "--backends", backend, written)
        assert again.returncode == 1 and f": operation {match.group(2)} (" in again.stderr, again.stderr


def test_jobs_run_side_by_side_with_consecutive_seeds(heaplab_release, tmp_path):
    proc = heaplab_release("fuzz", "--backends", "bins,arena", "--seed", "5", "--runs", "30", "--jobs", "3", "-q",
                           "--findings", tmp_path / "f", timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = sorted(line for line in proc.stdout.splitlines() if line.startswith("fuzz: seed "))
    assert [line.split(":")[1] for line in lines] == [" seed 5", " seed 6", " seed 7"]
    assert all(" 30 execs in " in line for line in lines)
    # the total over the jobs, with its rate; one corpus, shared
    total = re.search(r"^fuzz: 3 jobs: 90 execs in [\d.]+ s \((\d+) execs/s\), 0 distinct findings; \d+ outcomes, "
                      r"shared corpus (\d+)$", proc.stdout, re.M)
    assert total and int(total.group(1)) > 0, proc.stdout
    # each job prints the shared corpus as it was when that job ended: never more than the final one, which
    # jobs that ended later may still have grown
    sizes = [int(re.search(r"corpus (\d+)$", line).group(1)) for line in lines]
    assert all(1 <= size <= int(total.group(2)) for size in sizes), proc.stdout
    assert max(sizes) == int(total.group(2)), proc.stdout  # the last job to end saw it whole


def test_jobs_share_one_corpus_and_write_each_finding_once(heaplab_test_release, tmp_path):
    """mutant-stats-drift is caught within an input or two: both workers meet the same
    finding (rule and backend), and only the first to meet it writes it."""
    findings = tmp_path / "f"
    proc = heaplab_test_release("fuzz", "--backends", "bins,mutant-stats-drift", "--seed", "1", "--runs", "200",
                                "--jobs", "2", "-q", "--findings", findings, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert len(list(findings.glob("*.trace"))) == 1, proc.stderr
    assert proc.stderr.count("DIVERGENCE mutant-stats-drift") == 1, proc.stderr
    assert "another job found it first" in proc.stderr, proc.stderr
    assert re.search(r"^fuzz: 2 jobs: \d+ execs in .* 1 distinct finding;", proc.stdout, re.M), proc.stdout


def test_bad_usage(heaplab):
    assert heaplab("fuzz", "--backends", "bins", "--jobs", "0").returncode == 2
    assert heaplab("fuzz").returncode == 2
    assert heaplab("fuzz", "--backends", "bins", "--time", "soon").returncode == 2
    assert heaplab("fuzz", "--backends", "nosuch").returncode == 2
    assert heaplab("fuzz", "--backends", "bins", "--check-every", "x").returncode == 2
    assert heaplab("fuzz", "--backends", "bins", "--target", "x").returncode == 2
    assert heaplab("fuzz", "--help").returncode == 0


def test_the_decode_target_runs_the_engine_without_backends(heaplab_release, tmp_path):
    proc = heaplab_release("fuzz", "--backends", "bins", "--target", "decode", "--seed", "4", "--runs", "2000",
                           "-q", "--findings", tmp_path)
    assert proc.returncode == 0 and " 2000 execs in " in proc.stdout
    assert heaplab_release("fuzz", "--backends", "bins", "--target", "parse").returncode == 2


def test_the_corpus_seeds_mutations_and_grows_with_new_outcomes(heaplab_release, tmp_path):
    proc = heaplab_release("fuzz", "--backends", "bins,libc", "--seed", "9", "--runs", "300", "-q",
                           "--corpus", "fuzz/corpora/diff", "--findings", tmp_path)
    assert proc.returncode == 0, proc.stderr
    outcomes, corpus = proc.stdout.split("; ")[1].split(", ")
    assert int(outcomes.split()[0]) >= 10  # (kind, outcome) pairs seen
    assert int(corpus.split()[1]) > 8  # the eight seeds, and inputs that showed something new
    missing = heaplab_release("fuzz", "--backends", "bins", "--corpus", tmp_path / "nothing", "--runs", "5")
    assert missing.returncode == 2 and "--corpus" in missing.stderr


def test_a_finding_from_a_mutated_input_is_written_as_the_bytes_that_ran(heaplab_test_release, tmp_path):
    findings = tmp_path / "f"
    proc = heaplab_test_release("fuzz", "--backends", "mutant-live-handout", "--seed", "3", "--runs", "2000", "-q",
                                "--corpus", "fuzz/corpora/diff", "--findings", findings)
    assert proc.returncode == 1
    data = next(findings.glob("*.input"))
    decoded = tmp_path / "again.trace"
    assert heaplab_test_release("convert", "--from", "fuzz-input", data, decoded).returncode == 0
    strip = lambda p: [l for l in p.read_text().splitlines() if not l.startswith("#")]
    # the stream that ran: the input's operations and the free_all that ends every input
    assert strip(decoded)[-1] == "end"
    assert strip(decoded)[:-1] + ["free_all", "end"] == strip(data.with_suffix(".trace"))


def test_heap_checks_every_operation_find_a_broken_heap_earlier(heaplab_test_release, tmp_path):
    ops = {}
    for every in ("0", "1"):
        proc = heaplab_test_release("fuzz", "--backends", "mutant-live-handout", "--check-every", every, "--seed", "1",
                                    "--runs", "1000", "-q", "--findings", tmp_path / every)
        assert proc.returncode == 1
        line = [l for l in proc.stderr.splitlines() if l.startswith(("DIVERGENCE", "DIFFERENCE"))][0]
        at = re.search(r"operation (\d+) \(|end of the stream \((\d+) operations\)", line)
        ops[every] = (int(line.split("input ")[1].split()[0]), int(at.group(1) or at.group(2)))
    assert ops["1"][0] == ops["0"][0] and ops["1"][1] <= ops["0"][1]  # same input, no later operation


def test_an_input_that_hangs_when_the_time_runs_out_is_a_hang_not_a_clean_stop(heaplab_release, tmp_path):
    """A library that hangs on its first call (tests/backends/malloc_sandbox.c,
    SANDBOX_DO=hang) with --time 1 below --timeout 2: the input in flight when the time
    runs out is given the hang timeout to end, so it is a HANG finding, not "0 execs,
    no finding"; a healthy campaign still ends on time."""
    import os
    proc = heaplab_release("fuzz", "--backends", "bins,malloc:ex_@build/tests/libmalloc_sandbox.so", "--seed", "1",
                           "--time", "1", "--timeout", "2", "-q", "--findings", tmp_path,
                           env=dict(os.environ, SANDBOX_DO="hang"), timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "input 0 (seed 1): operation " in proc.stderr and ": HANG: libmalloc_sandbox.so made no progress for " \
        "2.0 s" in proc.stderr, proc.stderr
    assert list(tmp_path.glob("fuzz-1-0.HANG.trace"))
    proc = heaplab_release("fuzz", "--backends", "bins,libc", "--seed", "1", "--time", "1", "--timeout", "2", "-q",
                           "--findings", tmp_path / "clean", timeout=60)
    assert proc.returncode == 0 and re.search(r"execs in 1\.\d s", proc.stdout), proc.stdout + proc.stderr
