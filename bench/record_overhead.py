#!/usr/bin/python3
"""The recorder's overhead: each program's wall time with and without `heaplab record`,
run in turn round by round in this script, as a ratio (`make bench-record`).

    bench/record_overhead.py [--rounds 5]

Programs: Python building and dumping a JSON list (PYTHONMALLOC=malloc, so its small
objects reach malloc), gcc compiling one of heaplab's files, and sort on a generated
text."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def programs(work):
    text = work / "words.txt"
    text.write_text("".join(f"{(i * 7919) % 100003} line {i}\n" for i in range(200000)))
    return {
        "python3 json": (["/usr/bin/python3", "-c", "import json; json.dumps(list(range(300000)))"],
                         {"PYTHONMALLOC": "malloc"}),
        "gcc -c": (["gcc", "-O1", "-D_GNU_SOURCE", *[a for d in ("core", "trace", "run", "measure", "check") for a in ("-I", str(ROOT / d))], "-I", str(ROOT / "allocators/include"),
                    "-I", str(ROOT / "allocators"), "-I", str(ROOT / "allocators/source"), "-c",
                    str(ROOT / "check/shadow.c"), "-o", str(work / "x.o")], {}),
        "sort": (["sort", str(text), "-o", str(work / "sorted.txt")], {}),
    }


def run(command, env, record, work):
    full = ([str(ROOT / "build/heaplab"), "record", "-o", str(work / "r.trace"), "--"] if record else []) + command
    started = time.monotonic()
    subprocess.run(full, env=dict(os.environ, **env), check=True, capture_output=True)
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        print(f"{'program':14} {'plain s':>8} {'recorded s':>11} {'ratio (median, range)':>24} {'operations':>11}")
        for name, (command, env) in programs(work).items():
            ratios, plain, recorded = [], [], []
            for _ in range(args.rounds):
                a = run(command, env, False, work)
                b = run(command, env, True, work)
                plain.append(a), recorded.append(b), ratios.append(b / a)
            ops = sum(1 for line in (work / "r.trace").open() if line[:1].isalpha()) - 1
            print(f"{name:14} {statistics.median(plain):8.3f} {statistics.median(recorded):11.3f} "
                  f"{statistics.median(ratios):10.2f} ({min(ratios):.2f}-{max(ratios):.2f}) {ops:11d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
