#!/usr/bin/python3
"""Writes a synthetic heaplab trace: a ramp to LIVE live blocks, then a steady
state of random allocs, frees and reallocs around that level, then frees.

Sizes follow a small-object-heavy mix, the shape recorded programs usually have:
90% of blocks 1..128 bytes, 9% 129..1024, 1% 1 KiB..16 KiB; and most objects die
young: 80% of the frees and reallocs pick one of the 1024 youngest live blocks, the
rest any live block. Deterministic for a given --seed.

usage: bench/gen_trace.py [--ops N] [--live N] [--seed N] OUTPUT
"""
import argparse
import random
import sys


def size_of(rng):
    r = rng.random()
    if r < 0.90:
        return rng.randint(1, 128)
    if r < 0.99:
        return rng.randint(129, 1024)
    return rng.randint(1025, 16384)


def pick(rng, live):
    """An index into live (oldest first): usually a young block."""
    if rng.random() < 0.8:
        return len(live) - 1 - rng.randrange(min(1024, len(live)))
    return rng.randrange(len(live))


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
            i = pick(rng, live)
            live[i], live[-1] = live[-1], live[i]
            lines.append(f"free {live.pop()}")
        else:
            lines.append(f"realloc {live[pick(rng, live)]} {size_of(rng)}")
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
