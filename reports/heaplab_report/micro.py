"""The micro-benchmarks' figures (build/bench-micro, bench/micro/): Google Benchmark's
`--benchmark_format=json` output read and checked, one Result a case, folded into a
results document's "micro" section, and compared: each reference backend's time against
the fastest peer's of its family. bench/bench_quick.py (`make bench-quick`) and the
report's Micro-benchmarks table both use this module, so they say the same.

A case is named `family/target` (pair/16/bins, pair/16/raw:mimalloc): the target is a
backend through its contract table, or raw:NAME, a malloc called through its own entry
points. A case's time is Google Benchmark's CPU time per iteration in ns (the process's:
on a shared machine real time also counts other processes' turns): with repetitions the
median (Google Benchmark's median aggregate; the median of the runs when the file has
none), else the one run."""
import statistics
from dataclasses import dataclass, field

from .errors import InputError, read_json_file

REFERENCE = ("bins", "arena", "guard", "caps", "wasm")
ADAPTERS = ("libc", "jemalloc", "mimalloc", "tcmalloc")
NS_PER = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# the Google Benchmark context a folded section keeps, and the type each must have
CONTEXT = {"date": str, "host_name": str, "num_cpus": int, "mhz_per_cpu": (int, float), "library_build_type": str}
SKIPPED = "skipped:"  # bench-micro's context entry for a target it left out (shim.cc)
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
    ns: float | None = None        # CPU time per iteration, ns (the median over repetitions)
    real_ns: float | None = None   # real time per iteration, ns (the median)
    runs: list = field(default_factory=list)  # CPU time of each repetition, ns
    error: str | None = None       # why the case did not run (SkipWithError)
    repetitions: int = 0           # the runs Google Benchmark made of it

    @property
    def raw(self):
        return self.target.startswith("raw:")


def split_name(name):
    """`pair/16/raw:libc` -> (`pair/16`, `raw:libc`): the target is the last part."""
    family, _, target = name.rpartition("/")
    return family, target


# ---------------------------------------------------------------- reading

def _kind(entry):
    """"run" for an iteration entry (one repetition), "median" for the median aggregate,
    None for any other aggregate (mean, stddev, cv, a complexity fit): not a time here."""
    run_type = entry.get("run_type", "iteration")
    if run_type == "iteration":
        return "run"
    return "median" if run_type == "aggregate" and entry.get("aggregate_name") == "median" else None


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_entry(entry, i, name):
    """Raises InputError unless ENTRY (benchmarks[I] of file NAME) is a case bench-micro writes."""
    where = f"{name}: benchmarks[{i}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise InputError(f"{where}: not a Google Benchmark entry (no name)")
    case = entry.get("run_name", entry["name"])
    family, target = split_name(case) if isinstance(case, str) else ("", "")
    if not family or not target:
        raise InputError(f"{where}: {case!r} is not a micro-benchmark case (family/target, e.g. pair/16/bins)")
    if entry.get("error_occurred") or _kind(entry) is None:
        return
    unit = entry.get("time_unit", "ns")
    if unit not in NS_PER:
        raise InputError(f"{where} ({case}): time_unit {unit!r} is not one of {', '.join(NS_PER)}")
    for key in ("cpu_time", "real_time"):
        if not _number(entry.get(key)) or entry[key] < 0:
            raise InputError(f"{where} ({case}): {key} is not a time")
    if "repetitions" in entry and (not isinstance(entry["repetitions"], int) or entry["repetitions"] < 1):
        raise InputError(f"{where} ({case}): repetitions is not a count")


def check(doc, name):
    """Returns DOC if it is a Google Benchmark document of micro-benchmark cases; raises
    InputError naming NAME and what is wrong."""
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise InputError(f"{name}: not a Google Benchmark JSON document (no \"benchmarks\" list): write one "
                         "with build/bench-micro --benchmark_format=json --benchmark_out=FILE")
    if not doc["benchmarks"]:
        raise InputError(f"{name}: no benchmarks in it (did --benchmark_filter match nothing?)")
    context = doc.get("context", {})
    if not isinstance(context, dict):
        raise InputError(f"{name}: context is not an object")
    for key, kind in CONTEXT.items():
        if key in context and (not isinstance(context[key], kind) or isinstance(context[key], bool)):
            raise InputError(f"{name}: context.{key} is {context[key]!r}: not a {key} Google Benchmark writes")
    for key, value in context.items():
        if key.startswith(SKIPPED) and not isinstance(value, str):
            raise InputError(f"{name}: context.{key} is not a reason")
    for i, entry in enumerate(doc["benchmarks"]):
        _check_entry(entry, i, name)
    return doc


def read_json(source):
    """Returns the Google Benchmark document in SOURCE (a path, or a document already
    parsed), checked (see check); raises InputError naming the file when it is missing or
    unreadable, not JSON, or not such a document."""
    if isinstance(source, dict):
        return check(source, "the Google Benchmark document")
    doc = read_json_file(source)
    return check(doc, source)


def load_results(source):
    """The cases of a Google Benchmark document (a path or a parsed dict), by name in the
    order they ran: {name: Result}. A case's time is its median aggregate's when Google
    Benchmark wrote one, else the median of its runs (the one run without repetitions);
    a case any of whose runs stopped with an error has its message and no time."""
    doc = read_json(source)
    results, cpu, real, median = {}, {}, {}, {}
    for entry in doc["benchmarks"]:
        kind = _kind(entry)
        if kind is None:
            continue
        name = entry.get("run_name", entry["name"])
        if name not in results:
            results[name] = Result(name, *split_name(name))
            cpu[name], real[name] = [], []
        r = results[name]
        r.repetitions = max(r.repetitions, entry.get("repetitions", 1))
        if entry.get("error_occurred"):
            r.error = r.error or entry.get("error_message") or "error"
            continue
        scale = NS_PER[entry.get("time_unit", "ns")]
        if kind == "median":
            median[name] = (entry["cpu_time"] * scale, entry["real_time"] * scale)
        else:
            cpu[name].append(entry["cpu_time"] * scale)
            real[name].append(entry["real_time"] * scale)
    for name, r in results.items():
        r.runs = cpu[name]
        r.repetitions = max(r.repetitions, len(r.runs))
        if r.error is not None:
            continue
        if name in median:
            r.ns, r.real_ns = median[name]
        elif r.runs:
            r.ns, r.real_ns = statistics.median(cpu[name]), statistics.median(real[name])
    return results


def skipped_targets(source):
    """Targets bench-micro left out (no library, create failed): {target: reason}."""
    context = read_json(source).get("context", {})
    return {key[len(SKIPPED):]: value for key, value in context.items() if key.startswith(SKIPPED)}


# ---------------------------------------------------------------- the results document's section

def fold(path):
    """Returns the "micro" section of a results document made from the Google Benchmark
    file PATH: the file, the context that matters (date, host, CPUs, clock, the library's
    build type, the targets left out) and one entry per case. Raises InputError (see
    read_json)."""
    doc = read_json(path)
    context = {key: doc.get("context", {})[key] for key in CONTEXT if key in doc.get("context", {})}
    context["skipped"] = skipped_targets(doc)
    cases = []
    for r in load_results(doc).values():
        case = {"name": r.name, "family": r.family, "target": r.target, "cpu_ns": r.ns, "real_ns": r.real_ns,
                "repetitions": r.repetitions}
        if r.error is not None:
            case["error_message"] = r.error
        cases.append(case)
    return {"file": str(path), "context": context, "cases": cases}


def results_of(section):
    """The Results of a folded "micro" section, by name in their order: {name: Result}."""
    return {c["name"]: Result(c["name"], c["family"], c["target"], c["cpu_ns"], c["real_ns"],
                              error=c.get("error_message"), repetitions=c["repetitions"])
            for c in section["cases"]}


def debug_build(section):
    """True when Google Benchmark's library was a debug build (it warns: timings may be affected)."""
    return section["context"].get("library_build_type") == "debug"


# ---------------------------------------------------------------- comparisons

def families(results):
    """The families, in the order they ran."""
    return list(dict.fromkeys(r.family for r in results.values()))


def targets(results):
    """The targets, in the order they first ran."""
    return list(dict.fromkeys(r.target for r in results.values()))


def fastest(results, family, among):
    """The measured Result of FAMILY with the smallest time among the targets AMONG, or None."""
    measured = [results[f"{family}/{t}"] for t in among if f"{family}/{t}" in results]
    measured = [r for r in measured if r.ns is not None]
    return min(measured, key=lambda r: r.ns) if measured else None


def ratio(backend, peer):
    """BACKEND's time over PEER's (below 1: the backend is faster), or None when either has none."""
    if backend is None or peer is None or backend.ns is None or not peer.ns:
        return None
    return backend.ns / peer.ns


def raw_targets(results):
    """The raw peers (raw:NAME) that ran, sorted."""
    return sorted({r.target for r in results.values() if r.raw})


@dataclass
class FamilyRow:
    """A family's cases by target, and the fastest raw peer of the family."""
    family: str
    cases: dict                 # target -> Result
    raw: Result | None          # the fastest raw peer

    def ratio(self, target):
        return ratio(self.cases.get(target), self.raw)


def family_rows(results):
    """One FamilyRow a family, in the order they ran."""
    raws = raw_targets(results)
    return [FamilyRow(family, {r.target: r for r in results.values() if r.family == family},
                      fastest(results, family, raws))
            for family in families(results)]


@dataclass
class GoalRow:
    """A reference backend's case next to the fastest raw peer and the fastest adapter."""
    family: str
    backend: Result
    raw: Result | None          # the fastest raw peer
    adapter: Result | None      # the fastest peer through the contract table

    def ratio(self, peer):
        return ratio(self.backend, peer)


def goal_rows(results, reference=REFERENCE, adapters=ADAPTERS):
    """One row a family and reference backend that ran (or tried to)."""
    rows = []
    raws = raw_targets(results)
    for family in families(results):
        for name in reference:
            backend = results.get(f"{family}/{name}")
            if backend is None:
                continue
            rows.append(GoalRow(family, backend, fastest(results, family, raws), fastest(results, family, adapters)))
    return rows
