#!/usr/bin/python3
"""Writes a synthetic heaplab trace: a ramp to LIVE live blocks, then a steady
state of random allocs, frees and reallocs around that level, then frees.

Sizes follow a small-object-heavy mix (most blocks 8..128 bytes, some up to 4 KiB,
a few up to 64 KiB), the shape recorded programs usually have. Deterministic for a
given --seed.

usage: bench/gen_trace.py [--ops N] [--live N] [--seed N] OUTPUT
"""
import argparse
import random
import sys


def size_of(rng):
    r = rng.random()
    if r < 0.80:
        return rng.randint(1, 128)
    if r < 0.97:
        return rng.randint(129, 4096)
    return rng.randint(4097, 65536)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--live", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("output")
    args = parser.parse_args()
    if args.ops < 2 * args.live or args.live < 1:
        sys.exit("gen_trace: --ops must be at least twice --live, and --live positive")
    rng = random.Random(args.seed)
    live, lines, next_id = [], [], 1
    steady = args.ops - 2 * args.live
    for _ in range(args.live):
        lines.append(f"alloc {next_id} {size_of(rng)}")
        live.append(next_id)
        next_id += 1
    for _ in range(steady):
        r = rng.random()
        if r < 0.45 or not live:
            lines.append(f"alloc {next_id} {size_of(rng)}")
            live.append(next_id)
            next_id += 1
        elif r < 0.90:
            i = rng.randrange(len(live))
            live[i], live[-1] = live[-1], live[i]
            lines.append(f"free {live.pop()}")
        else:
            lines.append(f"realloc {rng.choice(live)} {size_of(rng)}")
    rng.shuffle(live)
    for block in live:
        lines.append(f"free {block}")
    with open(args.output, "w") as out:
        out.write("heaplab-trace 1\n")
        out.write(f"#@source=bench/gen_trace.py --ops {args.ops} --live {args.live} --seed {args.seed}\n")
        out.write("\n".join(lines))
        out.write("\nend\n")


if __name__ == "__main__":
    main()
