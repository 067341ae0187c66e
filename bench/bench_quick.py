#!/usr/bin/python3
"""The goal table of the micro-benchmarks (`make bench-quick`): reads the Google
Benchmark JSON that build/bench-micro wrote and prints

  1. for each family and each reference backend (bins, arena, guard, caps, wasm): its
     time per iteration next to the fastest peer's, raw (the malloc called directly,
     `raw:NAME`) and through the contract table (the adapter backends libc, jemalloc,
     mimalloc, tcmalloc), each as a ratio (backend / peer: below 1 is faster);
  2. for each adapter: its alloc + free pair through the contract table minus the same
     pair on its raw malloc, at 16, 32, 64 and 128 bytes; the goal (issue 19) is that
     the adapter adds at most 3 ns.

Times are Google Benchmark's CPU time per iteration, in ns (the process's: on a
shared machine real time also counts other processes' turns); with repetitions, the
median (Google Benchmark's median aggregate, else the median of the runs). A case that
could not run (a backend's capacity, say) shows its reason. Exit status 0 (1 with
--strict when an adapter misses the goal), 2 on bad input.

    bench/bench_quick.py [--strict] [build/bench-micro.json]

Reading the JSON and the comparisons (the cases' medians, the fastest peer, the
ratios) are reports/heaplab_report/micro.py's, which the report's Micro-benchmarks
table (`heaplab report --micro FILE`) uses too.
"""
import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "reports"))
from heaplab_report.errors import InputError  # noqa: E402
from heaplab_report.fmt import ns_fine as fmt_ns, times_fine as fmt_ratio  # noqa: E402
from heaplab_report.micro import (ADAPTERS, ITERATION, families, goal_rows, load_results,  # noqa: E402
                                  read_json, skipped_targets)

GOAL_FAMILIES = ("pair/16", "pair/32", "pair/64", "pair/128")
GOAL_NS = 3.0


@dataclass
class AdapterRow:
    adapter: str
    overhead: dict              # family -> contract pair minus raw pair, ns

    @property
    def worst(self):
        return max(self.overhead.values()) if self.overhead else None

    @property
    def met(self):
        return self.worst is not None and self.worst <= GOAL_NS


def adapter_rows(results, adapters=ADAPTERS, goal_families=GOAL_FAMILIES):
    """Per adapter measured both ways: the contract-table pair minus the raw pair."""
    rows = []
    for adapter in adapters:
        overhead = {}
        for family in goal_families:
            contract, raw = results.get(f"{family}/{adapter}"), results.get(f"{family}/raw:{adapter}")
            if contract and raw and contract.ns is not None and raw.ns is not None:
                overhead[family] = contract.ns - raw.ns
        if overhead:
            rows.append(AdapterRow(adapter, overhead))
    return rows


def format_goal_table(rows):
    head = (f"{'family':<15} {'backend':<8} {'ns':>10}   {'fastest raw':<13} {'ns':>9} {'ratio':>7}   "
            f"{'fastest adapter':<15} {'ns':>9} {'ratio':>7}")
    lines = ["reference backends against the fastest peer: CPU ns per iteration, ratio = backend / peer", head]
    for row in rows:
        start = f"{row.family:<15} {row.backend.target:<8} "
        if row.backend.ns is None:
            lines.append(start + f"{'skipped':>10}   ({row.backend.error})")
            continue
        raw, adapter = row.raw, row.adapter
        lines.append(start + f"{fmt_ns(row.backend.ns):>10}   "
                     f"{raw.target if raw else '-':<13} {fmt_ns(raw.ns if raw else None):>9} "
                     f"{fmt_ratio(row.ratio(raw)):>7}   "
                     f"{adapter.target if adapter else '-':<15} {fmt_ns(adapter.ns if adapter else None):>9} "
                     f"{fmt_ratio(row.ratio(adapter)):>7}")
    return "\n".join(lines)


def format_adapter_table(rows, goal_families=GOAL_FAMILIES):
    lines = [f"adapter overhead: contract-table pair minus raw pair, ns (goal: at most {GOAL_NS:g} ns)",
             f"{'adapter':<10}" + "".join(f"{f:>10}" for f in goal_families) + f"{'worst':>10}  goal"]
    for row in rows:
        cells = "".join(f"{row.overhead[f]:>+10.2f}" if f in row.overhead else f"{'-':>10}" for f in goal_families)
        lines.append(f"{row.adapter:<10}{cells}{row.worst:>+10.2f}  {'met' if row.met else 'missed'}")
    return "\n".join(lines)


def format_legend(results, skipped):
    kinds = list(dict.fromkeys(f.split("/")[0] for f in families(results)))
    lines = ["one iteration:"] + [f"  {k}: {ITERATION[k]}" for k in kinds if k in ITERATION]
    lines += [f"skipped target {name}: {why}" for name, why in skipped.items()]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", nargs="?", default=str(ROOT / "build" / "bench-micro.json"))
    parser.add_argument("--strict", action="store_true", help="exit 1 when an adapter misses the goal")
    args = parser.parse_args()
    try:
        doc = read_json(args.json)
        results = load_results(doc)
    except InputError as e:
        print(f"bench_quick: {e}", file=sys.stderr)
        return 2
    adapters = adapter_rows(results)
    print(format_goal_table(goal_rows(results)))
    print()
    print(format_adapter_table(adapters))
    print()
    print(format_legend(results, skipped_targets(doc)))
    return 1 if args.strict and not all(row.met for row in adapters) else 0


if __name__ == "__main__":
    sys.exit(main())
