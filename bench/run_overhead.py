#!/usr/bin/python3
"""What `heaplab run` costs a program: each program's wall time served by each
backend, with and without --check, over the same program run plainly (glibc's malloc),
round by round in turn in this script, as ratios (`make bench-run`).

    bench/run_overhead.py [--rounds 5] [--backends bins,arena,...] [--programs python3,sqlite3]

A ratio mixes two things: the backend's own speed against glibc's, and the shim's
cost (a lock, the executor's bookkeeping, with --check the shadow). The yardstick row
tells them apart with a measure heaplab does not control: jemalloc served through the
shim over jemalloc preloaded directly (LD_PRELOAD=libjemalloc.so.2), the same allocator
with and without heaplab in between."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["bins", "arena", "guard:sample=16", "caps", "wasm"]
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"

SQL = """CREATE TABLE t(a INTEGER, b TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
INSERT INTO t SELECT x, printf('%08x', (x * 2654435761) % 4294967296) FROM c;
CREATE INDEX tb ON t(b);
SELECT count(*) FROM t WHERE b > '8';
"""


def programs():
    json_program = 'import json; print(len(json.dumps([{"a": i} for i in range(100000)])))'
    return {
        # PYTHONMALLOC=malloc: every object reaches malloc (by default pymalloc keeps
        # objects up to 512 bytes, and the shim would see a few thousand calls)
        "python3": (["/usr/bin/python3", "-c", json_program], {"PYTHONMALLOC": "malloc"}, None),
        "sqlite3": (["sqlite3", ":memory:"], {}, SQL),
    }


def timed(command, env, stdin):
    started = time.monotonic()
    proc = subprocess.run(command, env=dict(os.environ, **env), input=stdin, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"run_overhead: {' '.join(command[:6])} ... failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc.stderr


def served(stderr):
    m = re.search(r"(\d+) calls served", stderr)
    return int(m.group(1)) if m else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--programs", default="python3,sqlite3")
    args = parser.parse_args()
    heaplab = str(ROOT / "build/heaplab")
    chosen = {name: p for name, p in programs().items() if name in args.programs.split(",")}
    if not chosen:
        print(f"run_overhead: no program among {args.programs} (python3, sqlite3)", file=sys.stderr)
        return 2
    print(f"{'program':8} {'backend':16} {'plain s':>8} {'run s':>7} {'ratio (median, range)':>22} "
          f"{'--check s':>9} {'ratio (median, range)':>22} {'calls':>9}")
    for name, (command, env, stdin) in chosen.items():
        if not shutil.which(command[0]):
            print(f"{name:8} not measured: {command[0]} is not installed")
            continue
        rows = [(b, ["run", "--backend", b]) for b in args.backends.split(",")]
        for backend, run in rows:
            plain, bare, checked, r1, r2, calls = [], [], [], [], [], 0
            for _ in range(args.rounds):
                a, _ = timed(command, env, stdin)
                b, err = timed([heaplab, *run, "--", *command], env, stdin)
                c, _ = timed([heaplab, *run, "--check", "--", *command], env, stdin)
                plain.append(a), bare.append(b), checked.append(c), r1.append(b / a), r2.append(c / a)
                calls = served(err)
            print(f"{name:8} {backend:16} {statistics.median(plain):8.3f} {statistics.median(bare):7.3f} "
                  f"{statistics.median(r1):10.2f} ({min(r1):.2f}-{max(r1):.2f}) {statistics.median(checked):9.3f} "
                  f"{statistics.median(r2):10.2f} ({min(r2):.2f}-{max(r2):.2f}) {calls:9d}")
        if not os.path.exists(JEMALLOC):
            print(f"{name:8} yardstick not measured: {JEMALLOC} is missing")
            continue
        direct, shimmed, ratios = [], [], []
        for _ in range(args.rounds):
            a, _ = timed(command, dict(env, LD_PRELOAD=JEMALLOC), stdin)
            b, _ = timed([heaplab, "run", "--backend", "jemalloc", "--", *command], env, stdin)
            direct.append(a), shimmed.append(b), ratios.append(b / a)
        print(f"{name:8} yardstick: jemalloc through the shim {statistics.median(shimmed):.3f} s over jemalloc "
              f"preloaded directly {statistics.median(direct):.3f} s: {statistics.median(ratios):.2f}x "
              f"({min(ratios):.2f}-{max(ratios):.2f}), heaplab's own cost")
    return 0


if __name__ == "__main__":
    sys.exit(main())
