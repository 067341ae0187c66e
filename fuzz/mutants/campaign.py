#!/usr/bin/python3
"""The planted-bug campaign: runs `heaplab fuzz` (the built-in fuzzer) against each
mutant of fuzz/mutants/ and reports whether it was caught, under which rule, after
how many executions and how long.

Each mutant file says what it is called (its HL_*_NAME) and which rule ids count as
catching it (its `expect:` line); this script and tests/test_mutants.py read both
from there, so a new mutant is one new file.

    fuzz/mutants/campaign.py [--engine builtin|libfuzzer] [--runs N] [--time SECONDS]
                             [--seeds 1,2,3] [--jobs J] [MUTANT...]

`make test-mutants` runs it with the full budget (10^6 executions or 60 s a mutant);
`make test-mutants-libfuzzer` the same through libFuzzer (build/libfuzzer/fuzz-diff-mutants,
seeded with fuzz/corpora/diff and fuzz/dict/diff.dict).
Exit status: 0 every mutant caught with an expected rule in every seed, 1 otherwise,
2 bad usage."""
import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# the one finding line every command prints (check/finding.c)
# (at an operation, or at the end of the stream: the final checks, the teardown)
WHERE = r"(?:operation (\d+)(?: \(\w+\))?|end of the stream \((\d+) operations\))"
FINDING = re.compile(r"^(?:DIVERGENCE|DIFFERENCE) (\S+): input (\d+) \(seed \d+\): " + WHERE + r": ([A-Z_]+): (.*)$",
                     re.M)
LIBFUZZER_FINDING = re.compile(r"^(?:DIVERGENCE|DIFFERENCE) (\S+): fuzz input: " + WHERE + r": ([A-Z_]+): (.*)$", re.M)


def mutants():
    """[(name, file, expected rules)] for every mutant file, in file-name order."""
    found = []
    for path in sorted(HERE.glob("*.c")):
        text = path.read_text()
        name = re.search(r'#define HL_[A-Z]+_NAME "([^"]+)"', text)
        expect = re.search(r"^ \* expect: ([A-Z_ ]+?)\s*(?:\*/)?$", text, re.M)
        if not name or not expect:
            raise SystemExit(f"{path}: a mutant needs a #define HL_<BACKEND>_NAME and an ' * expect: RULE...' line")
        found.append((name.group(1), path, expect.group(1).split()))
    return found


def run_one(heaplab, name, seed, runs, seconds, findings):
    """Fuzzes one mutant alone. Returns a dict: caught (bool), rule, message, input
    (the input number that showed it, so execs = input + 1), seconds, trace, status."""
    started = time.monotonic()
    proc = subprocess.run([str(heaplab), "fuzz", "--backends", name, "--seed", str(seed), "--runs", str(runs),
                           "--time", f"{seconds}s", "-q", "--findings", str(findings)],
                          capture_output=True, text=True, timeout=seconds + 120)
    elapsed = time.monotonic() - started
    match = FINDING.search(proc.stderr)
    result = {"name": name, "seed": seed, "status": proc.returncode, "seconds": elapsed, "caught": False,
              "rule": None, "message": proc.stderr.strip()[-400:], "execs": None, "trace": None}
    if proc.returncode == 1 and match and match.group(1) == name:
        trace = re.search(r"written: (\S+\.trace)", proc.stderr[match.end():])
        result.update(caught=True, rule=match.group(5), message=match.group(6), execs=int(match.group(2)) + 1,
                      trace=trace.group(1) if trace else None)
    else:
        done = re.search(r": (\d+) execs in ", proc.stdout)
        result["execs"] = int(done.group(1)) if done else None
    return result


def run_libfuzzer(binary, name, seed, runs, seconds, work):
    """One mutant through the libFuzzer build of the diff target. Returns a dict as
    run_one does (no trace: the artifact is input bytes, in work)."""
    corpus = Path(work) / "corpus"
    shutil.copytree(ROOT / "fuzz/corpora/diff", corpus)
    env = dict(__import__("os").environ, HEAPLAB_FUZZ_BACKENDS=name)
    started = time.monotonic()
    proc = subprocess.run([str(binary), f"-seed={seed}", f"-runs={runs}", f"-max_total_time={int(seconds)}",
                           "-rss_limit_mb=0", "-malloc_limit_mb=2097152", "-print_final_stats=1",
                           f"-artifact_prefix={work}/", f"-dict={ROOT / 'fuzz/dict/diff.dict'}", str(corpus)],
                          capture_output=True, text=True, timeout=seconds + 120, env=env)
    elapsed = time.monotonic() - started
    match = LIBFUZZER_FINDING.search(proc.stderr)
    execs = re.search(r"^stat::number_of_executed_units: *(\d+)", proc.stderr, re.M)
    result = {"name": name, "seed": seed, "status": proc.returncode, "seconds": elapsed, "caught": False,
              "rule": None, "message": proc.stderr.strip()[-400:], "execs": int(execs.group(1)) if execs else None,
              "trace": None}
    if match and match.group(1) == name:
        result.update(caught=True, rule=match.group(4), message=match.group(5))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mutant", nargs="*", help="mutant names (default: all)")
    parser.add_argument("--engine", choices=("builtin", "libfuzzer"), default="builtin",
                        help="heaplab fuzz (default) or the libFuzzer build of the diff target")
    parser.add_argument("--heaplab", default=None,
                        help="the binary: the driver with the test-only backends (default build/release/heaplab-test)"
                             " or, with --engine libfuzzer, build/libfuzzer/fuzz-diff-mutants")
    parser.add_argument("--runs", type=int, default=1_000_000, help="executions a mutant, at most (default 10^6)")
    parser.add_argument("--time", type=float, default=60, help="seconds a mutant, at most (default 60)")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated campaign seeds (default 1,2,3)")
    parser.add_argument("--jobs", type=int, default=2, help="campaigns side by side (default 2)")
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        parser.error(f"--seeds '{args.seeds}' is not a comma-separated list of numbers")
    default = "build/release/heaplab-test" if args.engine == "builtin" else "build/libfuzzer/fuzz-diff-mutants"
    args.heaplab = args.heaplab or str(ROOT / default)
    if not Path(args.heaplab).exists():
        parser.error(f"{args.heaplab} is missing: run `make {default}`")
    runner = run_one if args.engine == "builtin" else run_libfuzzer
    table = mutants()
    if args.mutant:
        unknown = set(args.mutant) - {name for name, _, _ in table}
        if unknown:
            parser.error(f"no such mutant: {', '.join(sorted(unknown))} (known: {', '.join(n for n, _, _ in table)})")
        table = [row for row in table if row[0] in args.mutant]
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(max(1, args.jobs)) as pool:
        jobs = {(name, seed): pool.submit(runner, args.heaplab, name, seed, args.runs, args.time,
                                          Path(scratch) / f"{name}-{seed}")
                for name, _, _ in table for seed in seeds}
        failed = 0
        print(f"engine: {args.engine}")
        print(f"{'mutant':32} {'expected':40} {'caught (seeds ' + args.seeds + ')':40} execs (median)  seconds (median)")
        for name, _, expect in table:
            results = [jobs[(name, seed)].result() for seed in seeds]
            good = [r for r in results if r["caught"] and r["rule"] in expect]
            rules = ",".join(r["rule"] or "MISSED" for r in results)
            ok = len(good) == len(results)
            failed += not ok
            execs = statistics.median(r["execs"] for r in good) if ok else float("nan")
            secs = statistics.median(r["seconds"] for r in good) if ok else float("nan")
            print(f"{name:32} {' '.join(expect):40} {rules:40} {execs:14.0f}  {secs:8.2f}{'' if ok else '  NOT CAUGHT'}")
            for r in results:
                if not (r["caught"] and r["rule"] in expect):
                    print(f"  seed {r['seed']}: status {r['status']}: {r['rule'] or ''} {r['message']}")
    print(f"{len(table) - failed} caught, {failed} missed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
