#!/usr/bin/python3
"""heaplab's speed figures against the hand-written loop (bench/yardstick.c).

For every trace of traces/real/ and every peer (libc, jemalloc, mimalloc, tcmalloc):
the yardstick (the allocator's own entry points over the pre-decoded trace, no heaplab
code in the loop) and `heaplab replay --no-shadow --json` (its speed.ns_per_op, the
measure path: a peer's own entry points where they serve the step, speed.entry "direct") are run in turn, ROUNDS times, both pinned to
the same CPU (on these 2-CPU guests one CPU runs 1.6x slower than the other), and each
pair's ratio heaplab / yardstick is taken; the table shows the medians.

The gate (issue 19): every ratio <= 1.5; where the yardstick separates two peers on a
trace by more than 15%, heaplab ranks them the same way. Exit 1 if either fails.

    /usr/bin/python3 bench/speed_bench.py [--rounds N] [--cpu N] [--traces DIR] [--json OUT]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAPLAB = ROOT / "build" / "heaplab"
YARDSTICK = ROOT / "build" / "bench" / "yardstick"
PEERS = ["libc", "jemalloc", "mimalloc", "tcmalloc"]
GATE = 1.5
GOAL = 1.10
RANK_GAP = 1.15
ENV = dict(os.environ, GLIBC_TUNABLES="glibc.rtld.optional_static_tls=16384")


def pinned(cpu, argv):
    return ["taskset", "-c", str(cpu)] + [str(a) for a in argv]


def yardstick(cpu, peer, text_trace):
    out = subprocess.run(pinned(cpu, [YARDSTICK, "--lib", peer, text_trace]), capture_output=True, text=True,
                         env=ENV, check=True).stdout
    doc = json.loads(out)
    return doc["ns_per_op"], doc["cold_ns_per_op"]


def heaplab(cpu, peer, trace):
    out = subprocess.run(pinned(cpu, [HEAPLAB, "replay", "--no-shadow", "--json", "--backends", peer, trace]),
                         capture_output=True, text=True, check=True).stdout
    speed = json.loads(out)["results"][0]["speed"]
    return speed["ns_per_op"], speed["cold_ns_per_op"], speed["null_ns_per_op"]


def ranks_agree(yard, heap):
    """[(a, b)] of peer pairs the yardstick separates by more than RANK_GAP that heaplab
    orders the other way."""
    wrong = []
    for i, a in enumerate(PEERS):
        for b in PEERS[i + 1:]:
            if a not in yard or b not in yard:
                continue
            fast, slow = (a, b) if yard[a] < yard[b] else (b, a)
            if yard[slow] / yard[fast] > RANK_GAP and not heap[fast] < heap[slow]:
                wrong.append((fast, slow))
    return wrong


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu", type=int, default=os.cpu_count() - 1)
    parser.add_argument("--traces", default=str(ROOT / "traces" / "real"))
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    traces = sorted(Path(args.traces).glob("*.trace*"))
    rows, failures = [], []
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'trace':<14} {'peer':<9} {'loop ns/op':>10} {'heaplab':>8} {'ratio':>6} {'cold loop':>9} "
              f"{'cold hl':>8} {'null':>5}")
        for trace in traces:
            text = Path(tmp) / (trace.name + ".txt")
            subprocess.run([HEAPLAB, "convert", "--to", "text", trace, text], capture_output=True, check=True)
            yard, heap = {}, {}
            for peer in PEERS:
                pairs = []
                for _ in range(args.rounds):
                    y, yc = yardstick(args.cpu, peer, text)
                    h, hc, null = heaplab(args.cpu, peer, trace)
                    pairs.append((y, h, yc, hc, null))
                y = statistics.median(p[0] for p in pairs)
                h = statistics.median(p[1] for p in pairs)
                ratio = statistics.median(p[1] / p[0] for p in pairs)
                yc = statistics.median(p[2] for p in pairs)
                hc = statistics.median(p[3] or 0 for p in pairs)
                null = statistics.median(p[4] or 0 for p in pairs)
                yard[peer], heap[peer] = y, h
                name = trace.name.split(".")[0]
                rows.append({"trace": name, "peer": peer, "loop_ns": y, "heaplab_ns": h, "ratio": ratio,
                             "loop_cold_ns": yc, "heaplab_cold_ns": hc, "null_ns": null})
                print(f"{name:<14} {peer:<9} {y:>10.1f} {h:>8.1f} {ratio:>6.2f} {yc:>9.1f} {hc:>8.1f} {null:>5.1f}",
                      flush=True)
                if ratio > GATE:
                    failures.append(f"{name} {peer}: heaplab / loop = {ratio:.2f} > {GATE}")
            for fast, slow in ranks_agree(yard, heap):
                failures.append(f"{trace.name}: the loop has {fast} faster than {slow} by more than "
                                f"{RANK_GAP - 1:.0%}; heaplab does not")
    ratios = [r["ratio"] for r in rows]
    print(f"\nheaplab / hand-written loop, warm ns/op: median {statistics.median(ratios):.2f}, "
          f"max {max(ratios):.2f} (gate {GATE}, goal {GOAL})")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
