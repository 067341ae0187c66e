#!/usr/bin/python3
"""Executions per second of each fuzzing front end on the default target (diff: the
five reference backends and libc under the shadow model) next to the bare target
that only decodes, as a ratio, interleaved round by round so a noisy machine moves
both alike (`make bench-fuzz`).

    bench/fuzz_rates.py [--seconds 10] [--rounds 3] [--engines builtin,libfuzzer,afl] [--no-jobs]

Then `heaplab fuzz --jobs 2` (two workers sharing one corpus) against one job on the
diff target, interleaved the same way: the aggregate exec/s and its ratio.

Builds are as each front end ships: the built-in fuzzer is the release driver (a
forked child per campaign), libFuzzer is clang with ASan and UBSan (in process), AFL++
is afl-clang-fast -O2 (persistent mode, one instance)."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def builtin(target, seconds, work, jobs=1):
    proc = subprocess.run([str(ROOT / "build/heaplab"), "fuzz", "--backends", "refs,libc", "--target", target,
                           "--time", f"{seconds}s", "--seed", "1", "-q", "--findings", str(work), "--jobs", str(jobs)],
                          capture_output=True, text=True, timeout=seconds + 60)
    total = r"^fuzz: \d+ jobs: (\d+) execs in ([\d.]+) s" if jobs > 1 else r": (\d+) execs in ([\d.]+) s"
    m = re.search(total, proc.stdout, re.M)
    if not m:
        raise SystemExit(f"heaplab fuzz --target {target}: no summary\n{proc.stdout}{proc.stderr}")
    return int(m.group(1)) / float(m.group(2))


def libfuzzer(target, seconds, work):
    corpus = Path(work) / "corpus"
    shutil.copytree(ROOT / "fuzz/corpora/diff", corpus)
    proc = subprocess.run([str(ROOT / f"build/libfuzzer/fuzz-{target}"), f"-max_total_time={seconds}", "-seed=1",
                           "-rss_limit_mb=0", "-malloc_limit_mb=2097152", "-print_final_stats=1",
                           f"-artifact_prefix={work}/", str(corpus)],
                          capture_output=True, text=True, timeout=seconds + 60)
    m = re.search(r"^stat::number_of_executed_units: *(\d+)", proc.stderr, re.M)
    if not m:
        raise SystemExit(f"libfuzzer {target}: no stats\n{proc.stderr[-2000:]}")
    return int(m.group(1)) / seconds


def afl(target, seconds, work):
    env = dict(os.environ, HEAPLAB_AFL_OUT=str(work))
    proc = subprocess.run([str(ROOT / "fuzz/run-afl.sh"), target, str(seconds), "1"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=seconds + 120)
    m = re.search(r": (\d+) execs in ", proc.stdout)
    if not m:
        raise SystemExit(f"afl {target}: no summary\n{proc.stdout}{proc.stderr[-2000:]}")
    return int(m.group(1)) / seconds


ENGINES = {"builtin": builtin, "libfuzzer": libfuzzer, "afl": afl}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="seconds a run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--engines", default="builtin,libfuzzer,afl", help="comma-separated front ends")
    parser.add_argument("--no-jobs", action="store_true", help="skip the --jobs 2 against one job comparison")
    args = parser.parse_args()
    engines = args.engines.split(",")
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine {unknown[0]} (known: {', '.join(ENGINES)})")
    rates = {(e, t): [] for e in engines for t in ("diff", "decode")}
    ratios = {e: [] for e in engines}
    for r in range(args.rounds):
        for e in engines:
            got = {}
            for t in ("diff", "decode"):
                with tempfile.TemporaryDirectory() as work:
                    got[t] = ENGINES[e](t, args.seconds, work)
                rates[(e, t)].append(got[t])
            ratios[e].append(got["diff"] / got["decode"])
            print(f"round {r + 1}: {e}: diff {got['diff']:.0f}/s, decode {got['decode']:.0f}/s", file=sys.stderr)
    print(f"{'front end':10} {'diff exec/s':>12} {'decode exec/s':>14} {'diff/decode (median, range)':>30}")
    for e in engines:
        d, b = statistics.median(rates[(e, 'diff')]), statistics.median(rates[(e, 'decode')])
        lo, hi = min(ratios[e]), max(ratios[e])
        print(f"{e:10} {d:12.0f} {b:14.0f} {statistics.median(ratios[e]):>14.5f} ({lo:.5f}-{hi:.5f})")
    if args.no_jobs:
        return 0
    ones, twos, gains = [], [], []
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as work:
            one = builtin("diff", args.seconds, work)
        with tempfile.TemporaryDirectory() as work:
            two = builtin("diff", args.seconds, work, jobs=2)
        ones.append(one), twos.append(two), gains.append(two / one)
        print(f"round {r + 1}: fuzz --jobs 2: {two:.0f}/s, one job: {one:.0f}/s", file=sys.stderr)
    print(f"built-in --jobs 2: {statistics.median(twos):.0f} exec/s against {statistics.median(ones):.0f} for one job: "
          f"{statistics.median(gains):.2f}x ({min(gains):.2f}-{max(gains):.2f}; {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
