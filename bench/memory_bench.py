#!/usr/bin/python3
"""heaplab's own memory (issue 20): bytes per live block and per operation, as slopes
of peak RSS between two trace sizes, with the allocator's own memory taken out.

Traces, in the binary form (traces/FORMAT.md), written into --dir (build/bench-memory/)
and reused when present (each is written to a temporary name, then renamed):
  live-N   N allocs of --size bytes, then the end: N blocks live at the end
  freed-N  the same, then N frees (with --freed)
  churn-N  N times: alloc block 1, free block 1 (2N operations, at most one block live)

Every command runs under bench/peak_rss.c, which reads its peak RSS with wait4:
ru_maxrss, the larger of the command's own peak and that of every descendant it waited
for, so the forked runs of `replay` (its isolation) count. A figure is a slope,
(peak at N2 - peak at N1) / (N2 - N1) blocks or operations, so what a process holds
whatever the trace (code, libraries, fixed tables) drops out. The allocator's own slope
is measured the same way on the yardstick, bench/memory.c: the same allocations made
directly through the allocator (glibc's malloc for libc, the contract table for a
reference backend such as bins), every block written once, no pointer kept. heaplab's
share = heaplab's slope - the yardstick's. Peaks are compared, not sums: where a table
of the allocator and one of heaplab double at different times, the difference of the
peaks is what a user's machine must hold beyond the allocator's own peak.

Rows: per backend, `replay` (the check run with the shadow model, then the timed run)
and `replay --no-speed` (the check path alone) per live block on live-N, and per
operation on churn-N (what holding a loaded trace costs); then `validate` per operation
on live-N (each operation a new live id) and on churn-N (one id).

Gates (issue 20), printed as PASS/FAIL beside the figures, never the exit status (this
is a measurement): <= 100 B per live block (goal <= 64) for the check path, and
<= 24 B per operation for a loaded trace. Prints a table, then one JSON line. Exit 0;
2 when a run fails or a trace does not validate as written.

usage: bench/memory_bench.py [--blocks N1,N2] [--backends LIST] [--size BYTES] [--freed]
                             [--dir DIR] [--heaplab PATH] [--yardstick PATH] [--peak-rss PATH]
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GATE_BLOCK, GOAL_BLOCK, GATE_OP = 100, 64, 24
OPS = {"live": 1, "freed": 2, "churn": 2}  # operations per N


def varint(n):
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        if not n:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def write_trace(path, shape, n, size):
    """The binary form by hand (FORMAT.md "Binary form"): header, operations (kind byte,
    flags byte 0, varint fields), end record with the count."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(b"HLTRACE\x01")
        size_field, buf = varint(size), bytearray()
        if shape == "churn":
            pair = b"\x00\x00\x01" + size_field + b"\x01\x00\x01"  # alloc 1 SIZE, free 1
            for done in range(0, n, 1 << 16):
                f.write(pair * min(1 << 16, n - done))
        else:
            for code, fields in ((b"\x00\x00", size_field), (b"\x01\x00", b"")):
                for i in range(1, n + 1):
                    buf += code + varint(i) + fields
                    if len(buf) >= 1 << 20:
                        f.write(buf)
                        buf.clear()
                if shape == "live":
                    break
        buf += b"\xff" + varint(OPS[shape] * n)
        f.write(buf)
    os.replace(tmp, path)


def trace(args, shape, n):
    path = args.dir / f"{shape}-{n}-{args.size}.bin"
    if not path.exists():
        print(f"memory_bench: writing {path}", file=sys.stderr)
        write_trace(path, shape, n, args.size)
    return path


def fail(message):
    print(f"memory_bench: {message}", file=sys.stderr)
    sys.exit(2)


def peak_rss(args, argv):
    """(peak RSS in bytes of argv's process and the descendants it waited for, its
    stdout), read by bench/peak_rss.c: a process this interpreter forked would start
    from the interpreter's own resident size."""
    argv = [str(a) for a in [args.peak_rss] + list(argv)]
    proc = subprocess.run(argv, capture_output=True, text=True)
    last = proc.stderr.rstrip("\n").rsplit("\n", 1)[-1]
    if proc.returncode != 0 or not last.startswith("peak-rss: "):
        fail(f"{' '.join(argv[1:])}: exit status {proc.returncode}\n{proc.stdout}{proc.stderr}")
    return int(last.split()[1]), proc.stdout


class Bench:
    def __init__(self, args):
        self.args, self.yard = args, {}

    def heaplab(self, command, shape, n):
        """Peak RSS of heaplab COMMAND... on the trace; a validate must count its operations."""
        path = trace(self.args, shape, n)
        print(f"memory_bench: heaplab {' '.join(command)} {path.name}", file=sys.stderr)
        peak, out = peak_rss(self.args, [self.args.heaplab] + list(command) + [path])
        if command[0] == "validate" and f"ok ({OPS[shape] * n} operations, binary form)" not in out:
            fail(f"{path}: validate says {out.strip()!r}, not {OPS[shape] * n} operations")
        return peak

    def yardstick(self, backend, shape, n):
        key = (backend, shape, n)
        if key not in self.yard:
            print(f"memory_bench: yardstick {backend} {shape} {n}", file=sys.stderr)
            self.yard[key] = peak_rss(self.args, [self.args.yardstick, "--backend", backend, "--shape", shape,
                                       "--size", self.args.size, n])[0]
        return self.yard[key]

    def row(self, backend, command, shape, unit, gate, goal=None):
        """One figure: heaplab's slope, the yardstick's, and heaplab's share."""
        n1, n2 = self.args.blocks
        per = (lambda n: n) if unit == "B/block" else (lambda n: OPS[shape] * n)
        peaks = [self.heaplab(command, shape, n) for n in (n1, n2)]
        total = (peaks[1] - peaks[0]) / (per(n2) - per(n1))
        own, yard = 0.0, None
        if backend:  # the freed trace's peak is its N live blocks: the live yardstick's
            yard = [self.yardstick(backend, "churn" if shape == "churn" else "live", n) for n in (n1, n2)]
            own = (yard[1] - yard[0]) / (per(n2) - per(n1))
        share = total - own
        shown = " ".join(c for c in command if c != "-q" and not c.startswith("--backends="))
        return {"backend": backend, "command": shown, "argv": ["heaplab"] + command + [f"{shape}-N.bin"],
                "trace": shape, "unit": unit, "peak_rss": peaks, "yardstick_peak_rss": yard,
                "total": round(total, 2), "backend_own": round(own, 2), "heaplab": round(share, 2),
                "gate": gate, "pass": None if gate is None else share <= gate,
                "goal": goal, "goal_met": None if goal is None else share <= goal}


def rows(bench, args):
    out = []
    for b in args.backends:
        replay = ["replay", "-q", f"--backends={b}"]
        out.append(bench.row(b, replay, "live", "B/block", GATE_BLOCK, GOAL_BLOCK))
        out.append(bench.row(b, replay + ["--no-speed"], "live", "B/block", GATE_BLOCK, GOAL_BLOCK))
        if args.freed:
            out.append(bench.row(b, replay, "freed", "B/block", GATE_BLOCK, GOAL_BLOCK))
        out.append(bench.row(b, replay, "churn", "B/op", GATE_OP))
        out.append(bench.row(b, replay + ["--no-speed"], "churn", "B/op", GATE_OP))
    out.append(bench.row(None, ["validate"], "live", "B/op", None))
    out.append(bench.row(None, ["validate"], "churn", "B/op", GATE_OP))
    return out


def verdict(row):
    if row["gate"] is None:
        return "-"
    text = f"<={row['gate']} {'PASS' if row['pass'] else 'FAIL'}"
    if row["goal"] is not None:
        text += f", goal <={row['goal']} {'met' if row['goal_met'] else 'not met'}"
    return text


def print_table(args, table):
    n1, n2 = args.blocks
    mib = 1 << 20
    print(f"heaplab's own memory: slope of peak RSS from N = {n1:,} to {n2:,} ({args.size}-byte blocks);\n"
          f"live = N allocs, freed = N allocs then N frees, churn = N alloc/free pairs of one block\n")
    head = ["backend", "command", "trace", "unit", f"peak@{n1:,} MiB", f"peak@{n2:,} MiB", "total", "allocator",
            "heaplab", "gate"]
    lines = [head]
    for r in table:
        lines.append([r["backend"] or "(none)", r["command"], r["trace"], r["unit"],
                      f"{r['peak_rss'][0] / mib:.1f}", f"{r['peak_rss'][1] / mib:.1f}", f"{r['total']:.1f}",
                      f"{r['backend_own']:.1f}", f"{r['heaplab']:.1f}", verdict(r)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for line in lines:
        print("  ".join(cell.ljust(w) if i < 4 or i == 9 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(line, widths))).rstrip())
    print("\ntotal: heaplab's slope; allocator: the yardstick's (bench/memory.c; none for validate); "
          "heaplab = total - allocator.\ngates (issue 20): check path <= 100 B per live block (goal 64); "
          "a loaded trace <= 24 B per operation.")


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--blocks", default="1000000,10000000", help="N1,N2: the two sizes (default 10^6,10^7)")
    p.add_argument("--backends", default="bins,libc", help="backend specs (libc or reference backends)")
    p.add_argument("--size", type=int, default=16, help="bytes a block (16)")
    p.add_argument("--freed", action="store_true", help="also replay freed-N (every block freed at the end)")
    p.add_argument("--dir", type=Path, default=ROOT / "build" / "bench-memory")
    p.add_argument("--heaplab", type=Path, default=ROOT / "build" / "heaplab")
    p.add_argument("--yardstick", type=Path, default=ROOT / "build" / "bench" / "memory-yardstick")
    p.add_argument("--peak-rss", type=Path, default=ROOT / "build" / "bench" / "peak-rss")
    args = p.parse_args(argv)
    try:
        args.blocks = [int(x) for x in args.blocks.split(",")]
    except ValueError:
        args.blocks = []
    if len(args.blocks) != 2 or not 0 < args.blocks[0] < args.blocks[1]:
        p.error("--blocks needs N1,N2 with 0 < N1 < N2")
    args.backends = [b for b in args.backends.split(",") if b]
    return args


def main(argv=None):
    args = parse(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    table = rows(Bench(args), args)
    print_table(args, table)
    print(json.dumps({"bench": "memory", "blocks": args.blocks, "size": args.size,
                      "gates": {"per_live_block": GATE_BLOCK, "per_live_block_goal": GOAL_BLOCK,
                                "per_operation": GATE_OP}, "rows": table}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
