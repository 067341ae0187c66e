#!/usr/bin/python3
"""Replay benchmark: a generated 1M-operation trace with ~100k live blocks, through
the release driver. Reports, as medians over interleaved rounds:
  - shadow-checked throughput (operations per second, one core) of bins and libc;
  - bins without the shadow model as a ratio to libc on the same trace, both in
    the same `heaplab replay` process (so machine noise hits both alike).
The goal from the spine issue: shadow-checked throughput >= 2M ops/s.

usage: bench/replay_bench.py [--rounds N] [--heaplab PATH] [--trace PATH]
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_OPS_PER_SEC = 2_000_000


def replay(heaplab, trace, backends, shadow=True):
    args = [heaplab, "replay", "--json", "--backends", backends, trace]
    if not shadow:
        args.insert(2, "--no-shadow")
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"replay_bench: {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}")
    return {r["backend"]: r for r in json.loads(proc.stdout)["results"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--heaplab", default=str(ROOT / "build" / "heaplab"))
    parser.add_argument("--trace", default=str(ROOT / "build" / "bench" / "replay-1m.trace"),
                        help="generated (binary form) if it does not exist")
    parser.add_argument("--ops", type=int, default=1_000_000, help="operations of a generated trace")
    parser.add_argument("--live", type=int, default=100_000, help="live blocks of a generated trace")
    args = parser.parse_args()
    trace = Path(args.trace)
    if not trace.exists():
        trace.parent.mkdir(parents=True, exist_ok=True)
        text = trace.with_suffix(".txt")
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_trace.py"), "--ops", str(args.ops),
                        "--live", str(args.live), str(text)], check=True)
        subprocess.run([args.heaplab, "convert", "--to", "binary", str(text), str(trace)], check=True)
        text.unlink()
    shadow = {"bins": [], "libc": []}
    ratio, lean_ratio, bins_raw, lean_raw, libc_raw = [], [], [], [], []
    ops = 0
    for round_number in range(args.rounds):
        checked = replay(args.heaplab, trace, "bins,libc")
        for name in shadow:
            shadow[name].append(checked[name]["ops_per_sec"])
        raw = replay(args.heaplab, trace, "bins,bins:detect=0,libc", shadow=False)
        bins_raw.append(raw["bins"]["ops_per_sec"])
        lean_raw.append(raw["bins:detect=0"]["ops_per_sec"])
        libc_raw.append(raw["libc"]["ops_per_sec"])
        ratio.append(raw["bins"]["ops_per_sec"] / raw["libc"]["ops_per_sec"])
        lean_ratio.append(raw["bins:detect=0"]["ops_per_sec"] / raw["libc"]["ops_per_sec"])
        ops = checked["bins"]["ops"]
        peak = checked["bins"]["peak_live_blocks"]
        print(f"round {round_number + 1}/{args.rounds}: shadow bins {shadow['bins'][-1] / 1e6:.2f}M ops/s, "
              f"libc {shadow['libc'][-1] / 1e6:.2f}M; no shadow bins/libc {ratio[-1]:.2f}", file=sys.stderr)
    med = statistics.median
    print(f"trace: {trace} ({ops} operations, peak {peak} live blocks)")
    print(f"shadow-checked throughput, median of {args.rounds}: bins {med(shadow['bins']) / 1e6:.2f}M ops/s, "
          f"libc {med(shadow['libc']) / 1e6:.2f}M ops/s (goal >= {GOAL_OPS_PER_SEC / 1e6:.0f}M)")
    print(f"without the shadow: bins {med(bins_raw) / 1e6:.2f}M ops/s, bins:detect=0 {med(lean_raw) / 1e6:.2f}M, "
          f"libc {med(libc_raw) / 1e6:.2f}M; throughput ratio to libc (same process, same trace): "
          f"bins {med(ratio):.2f}, bins:detect=0 {med(lean_ratio):.2f}")
    met = med(shadow["bins"]) >= GOAL_OPS_PER_SEC
    print("goal met" if met else "goal NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
