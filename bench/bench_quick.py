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
median of the runs. A case that could not run (a backend's capacity, say) shows its
reason. Exit status 0 (1 with --strict when an adapter misses the goal), 2 on bad input.

    bench/bench_quick.py [--strict] [build/bench-micro.json]

load_results() is the reusable part: the Google Benchmark JSON as one Result a case.
"""
import argparse
import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ("bins", "arena", "guard", "caps", "wasm")
ADAPTERS = ("libc", "jemalloc", "mimalloc", "tcmalloc")
GOAL_FAMILIES = ("pair/16", "pair/32", "pair/64", "pair/128")
GOAL_NS = 3.0
NS_PER = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# what one iteration of each family is (bench/micro/micro.h)
ITERATION = {
    "pair": "alloc + write its first byte + free, of the size named (aligned/4K: 4 KiB aligned to 4 KiB)",
    "replace": "in a live set of that many blocks of 8-512 B: free a random one, allocate a random size in its place",
    "scope": "enter a scope, 64 allocs of 8-512 B, exit it (raw peers: 64 mallocs, then 64 frees)",
    "realloc": "alloc 16 B, realloc doubling to 64 KiB (12 reallocs), free",
}


@dataclass
class Result:
    """One case of the run: `family/target`, e.g. pair/16/raw:mimalloc."""
    name: str
    family: str
    target: str
    ns: float | None = None        # CPU time per iteration, ns (median over repetitions)
    real_ns: float | None = None   # real time per iteration, ns (median)
    runs: list = field(default_factory=list)  # CPU time of each repetition, ns
    error: str | None = None       # why the case did not run (SkipWithError)

    @property
    def raw(self):
        return self.target.startswith("raw:")


def split_name(name):
    """`pair/16/raw:libc` -> (`pair/16`, `raw:libc`): the target is the last part."""
    family, _, target = name.rpartition("/")
    return family, target


def read_json(source):
    """A Google Benchmark JSON document from a path, or a document already parsed."""
    if isinstance(source, dict):
        return source
    with open(source) as f:
        return json.load(f)


def load_results(source):
    """The cases of a Google Benchmark JSON document (a path or a parsed dict), by name
    in the order they ran: {name: Result}. Aggregate entries (mean, median, ...) are
    left out: the median is taken here over the iteration entries of each case."""
    doc = read_json(source)
    results, real, cpu = {}, {}, {}
    for entry in doc.get("benchmarks", []):
        if entry.get("run_type", "iteration") != "iteration":
            continue
        name = entry.get("run_name", entry["name"])
        if name not in results:
            results[name] = Result(name, *split_name(name))
            real[name], cpu[name] = [], []
        if entry.get("error_occurred"):
            results[name].error = entry.get("error_message", "error")
            continue
        scale = NS_PER[entry.get("time_unit", "ns")]
        real[name].append(entry["real_time"] * scale)
        cpu[name].append(entry["cpu_time"] * scale)
    for name, r in results.items():
        if real[name]:
            r.runs = cpu[name]
            r.ns = statistics.median(cpu[name])
            r.real_ns = statistics.median(real[name])
    return results


def skipped_targets(source):
    """Targets bench-micro left out (no library, create failed): {target: reason}."""
    context = read_json(source).get("context", {})
    return {key[len("skipped:"):]: value for key, value in context.items() if key.startswith("skipped:")}


def families(results):
    """The families, in the order they ran."""
    return list(dict.fromkeys(r.family for r in results.values()))


def fastest(results, family, targets):
    """The measured Result of family with the smallest time among targets, or None."""
    measured = [results[f"{family}/{t}"] for t in targets if f"{family}/{t}" in results]
    measured = [r for r in measured if r.ns is not None]
    return min(measured, key=lambda r: r.ns) if measured else None


@dataclass
class GoalRow:
    family: str
    backend: Result
    raw: Result | None          # the fastest raw peer
    adapter: Result | None      # the fastest peer through the contract table

    def ratio(self, peer):
        if peer is None or self.backend.ns is None or not peer.ns:
            return None
        return self.backend.ns / peer.ns


def goal_rows(results, reference=REFERENCE, adapters=ADAPTERS):
    """One row a family and reference backend that ran (or tried to)."""
    rows = []
    raws = sorted({r.target for r in results.values() if r.raw})
    for family in families(results):
        for name in reference:
            backend = results.get(f"{family}/{name}")
            if backend is None:
                continue
            rows.append(GoalRow(family, backend, fastest(results, family, raws), fastest(results, family, adapters)))
    return rows


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


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns < 100:
        return f"{ns:.2f}"
    if ns < 10000:
        return f"{ns:.1f}"
    return f"{ns:.0f}"


def fmt_ratio(ratio):
    if ratio is None:
        return "-"
    if ratio >= 100:
        return f"{ratio:.0f}x"
    if ratio >= 10:
        return f"{ratio:.1f}x"
    return f"{ratio:.2f}x"


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
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"bench_quick: {args.json}: {e}", file=sys.stderr)
        return 2
    if not results:
        print(f"bench_quick: {args.json}: no benchmarks", file=sys.stderr)
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
