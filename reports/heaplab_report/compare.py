"""The `compare` command: what changed between two runs, per (trace, backend), with the
noise of repeated runs taken into account."""
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePath

from . import fmt, partial, runs
from .load import InputError, compatible
from .page import Heading, Table, Text

NOISE_FACTOR = 3
REGRESSIONS = {"SLOWER", "LARGER"}


@dataclass(frozen=True)
class Spread:
    """One figure over a pair's repeated runs: NOISE is (max - min) / median, None for one run."""
    runs: int
    min: float
    median: float
    noise: float | None


@dataclass(frozen=True)
class Change:
    """A figure old -> new: RATIO of the medians (new / old), the LIMIT a change must pass
    (max(threshold, 3 x noise)) and its FLAG (None: not significant or not judged)."""
    old: Spread
    new: Spread
    ratio: float
    limit: float
    flag: str | None


@dataclass(frozen=True)
class Row:
    """One (trace, backend): its changes (None where a side has no figure) and NOTE when
    the pair is only on one side."""
    trace: str
    backend: str
    speed: Change | None = None
    p50: Change | None = None
    p99: Change | None = None
    footprint: Change | None = None
    note: str | None = None

    def flags(self):
        """Returns the row's flags, e.g. ["SLOWER", "LARGER"]."""
        return [c.flag for c in (self.speed, self.footprint) if c and c.flag]


def spread(values):
    """Returns the Spread of VALUES, or None when there are none."""
    if not values:
        return None
    low, high, median = min(values), max(values), statistics.median(values)
    if len(values) == 1:
        noise = None
    elif median:
        noise = (high - low) / median
    else:
        noise = 0.0 if high == low else float("inf")
    return Spread(len(values), low, median, noise)


def _ratio(old, new):
    if old:
        return new / old
    return 1.0 if new == old else float("inf")


def change(old_values, new_values, threshold, up=None, down=None):
    """Returns the Change between two sides' values, or None when a side has none.

    The change is significant when the ratio of the medians, taken as at least 1 (so a
    halving counts as 2), exceeds 1 + max(THRESHOLD, 3 x the larger side's noise); with one
    run per side the noise is unknown and THRESHOLD alone applies. A significant change is
    flagged UP when the figure grew, DOWN when it shrank (None: shown, not flagged)."""
    old, new = spread(old_values), spread(new_values)
    if old is None or new is None:
        return None
    noise = max((s.noise for s in (old, new) if s.noise is not None), default=0.0)
    limit = max(threshold, NOISE_FACTOR * noise)
    ratio = _ratio(old.median, new.median)
    flag = None
    if ratio > 1 + limit:
        flag = up
    elif ratio * (1 + limit) < 1:
        flag = down
    return Change(old, new, ratio, limit, flag)


def _latency(results, key):
    return [r["latency"]["kinds"]["alloc"][key] for r in results
            if r["latency"] and "alloc" in r["latency"]["kinds"]]


def trace_names(doc):
    """Returns {trace path: the name it is matched by}: its file name, or the path where
    two traces of DOC share a file name (two runs of one trace set from different folders
    then match; one that holds x.trace twice keeps the two apart)."""
    paths = runs.traces(doc)
    counts = Counter(PurePath(p).name for p in paths)
    return {p: PurePath(p).name if counts[PurePath(p).name] == 1 else p for p in paths}


def keyed(doc, renames=None):
    """Returns {(trace name, backend label): [result, ...]}: the pairs of DOC as compare
    matches them, each label renamed by RENAMES ({old label: new label}) first."""
    names, renames = trace_names(doc), renames or {}
    out = {}
    for (trace, backend), results in runs.pairs(doc).items():
        out.setdefault((names[trace], renames.get(backend, backend)), []).extend(results)
    return out


def compare(old_doc, new_doc, threshold, names=("A", "B"), renames=None):
    """Returns [Row] for every (trace, backend) of either document, OLD_DOC's order first.

    Pairs match by the trace's file name and the backend's label (the `name=` of a spec,
    by default a library's file name), so two builds at two paths compare; RENAMES
    ({label in OLD_DOC: label in NEW_DOC}, `--as OLD=NEW`) pairs two labels. THRESHOLD is
    a fraction (0.10: 10%). Raises InputError when the documents may not be compared (a
    sanitized and a release build; see load.compatible; NAMES name them), when a label
    of RENAMES is in neither document, or when no pair matches (a comparison of nothing
    must not pass)."""
    compatible(list(zip(names, (old_doc, new_doc))))
    renames = renames or {}
    for label, side, doc in [(o, names[0], old_doc) for o in renames] + [(n, names[1], new_doc)
                                                                       for n in renames.values()]:
        if label not in runs.backends(doc):
            raise InputError(f"--as: {side} has no backend {label} (it has: {', '.join(runs.backends(doc))})")
    old, new = keyed(old_doc, renames), keyed(new_doc)
    if not set(old) & set(new):
        raise InputError(f"{names[0]} and {names[1]} have no (trace, backend) in common, so nothing is compared: "
                         f"{names[0]} has {_listed(old)}; {names[1]} has {_listed(new)} (backends match by label: "
                         f"give both builds one name= or pair two labels with --as OLD=NEW)")
    rows = []
    for key in list(old) + [k for k in new if k not in old]:
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            rows.append(Row(*key, note=f"only in {names[0] if b is None else names[1]}"))
            continue
        rows.append(Row(*key,
                        speed=change([r["ops_per_sec"] for r in a if r["ops_per_sec"] is not None],
                                     [r["ops_per_sec"] for r in b if r["ops_per_sec"] is not None], threshold,
                                     up="FASTER", down="SLOWER"),
                        p50=change(_latency(a, "p50_ns"), _latency(b, "p50_ns"), threshold),
                        p99=change(_latency(a, "p99_ns"), _latency(b, "p99_ns"), threshold),
                        footprint=change([r["peak_footprint_bytes"] for r in a if r["peak_footprint_bytes"] is not None],
                                         [r["peak_footprint_bytes"] for r in b if r["peak_footprint_bytes"] is not None],
                                         threshold,
                                         up="LARGER", down="SMALLER")))
    return rows


def _listed(pairs, most=4):
    labels = sorted({b for _, b in pairs})
    shown = ", ".join(labels[:most]) + (f" and {len(labels) - most} more" if len(labels) > most else "")
    return f"{len(pairs)} pairs of backends {shown}" if pairs else "no results"


def regressed(rows):
    """Returns True when a row is SLOWER or LARGER."""
    return any(REGRESSIONS & set(r.flags()) for r in rows)


def _arrow(c, show, pick="median"):
    return fmt.DASH if c is None else f"{show(getattr(c.old, pick))} -> {show(getattr(c.new, pick))}"


def _with_ratio(c, show):
    return fmt.DASH if c is None else f"{_arrow(c, show)} ({fmt.times(c.ratio)})"


def _noise(c):
    if c is None:
        return fmt.DASH
    return "/".join(fmt.percent(s.noise) for s in (c.old, c.new))


def table(rows):
    """Returns the comparison Table: medians old -> new, ops/s min, ratios, the noise of
    ops/s per side, the limit a change had to pass, and the verdict."""
    headers = ["Trace", "Backend", "runs", "ops/s", "ops/s min", "ratio", "noise", "limit",
               "alloc p50 ns", "alloc p99 ns", "peak footprint", "ratio", "verdict"]
    out = []
    for r in rows:
        s, f = r.speed, r.footprint
        verdict = r.note or " ".join(r.flags()) or "ok"
        out.append([r.trace, r.backend,
                    f"{s.old.runs}/{s.new.runs}" if s else fmt.DASH,
                    _arrow(s, fmt.short), _arrow(s, fmt.short, "min"),
                    fmt.times(s.ratio) if s else fmt.DASH, _noise(s), fmt.percent(s.limit) if s else fmt.DASH,
                    _with_ratio(r.p50, fmt.ns), _with_ratio(r.p99, fmt.ns),
                    _arrow(f, fmt.binary_bytes), fmt.times(f.ratio) if f else fmt.DASH, verdict])
    return Table(headers, out, labels=2)


def explanation(names, threshold):
    """Returns the sentence saying what is compared and when a change is flagged."""
    return (f"{names[0]} -> {names[1]}, per trace and backend: medians over repeated runs, ratio new/old. "
            f"A change is flagged when the ratio (or its inverse) exceeds 1 + max({fmt.percent(threshold)}, "
            f"{NOISE_FACTOR} x the noise), noise being (max - min) / median of a side's runs (unknown with "
            f"one run). SLOWER/FASTER: ops/s; LARGER/SMALLER: peak footprint. Latency is shown, not flagged: "
            f"its percentiles are quantised to the timer's resolution.")


def verdict(rows):
    """Returns the closing sentence: how many pairs, flagged, regressions."""
    flagged = [r for r in rows if r.flags()]
    bad = [r for r in flagged if REGRESSIONS & set(r.flags())]
    return f"{len(rows)} pairs compared: {len(flagged)} changed significantly, {len(bad)} regressions."


def machines(old_doc, new_doc, names):
    """Returns the sentences noting how the two runs' machines and builds differ."""
    notes = []
    for part, keys in (("machine", ("hostname", "cpu_model", "cpus", "os", "release", "arch")),
                       ("build", ("heaplab", "commit", "id", "compiler", "flags", "optimized"))):
        for k in keys:
            a, b = old_doc[part].get(k), new_doc[part].get(k)
            if a != b:
                notes.append(f"{part}.{k} differs: {names[0]} {a}, {names[1]} {b}.")
    return notes


def rename_notes(renames, names):
    """Returns the sentences saying which labels --as paired (rows carry the new label)."""
    return [f"{names[0]}'s {old} is compared with {names[1]}'s {new} (--as); the rows name it {new}."
            for old, new in (renames or {}).items()]


def partial_notes(old_doc, new_doc, names):
    """Returns the sentences saying which side is a partial document (some pairs not measured)."""
    return [n for n in (partial.describe(old_doc, names[0]), partial.describe(new_doc, names[1])) if n]


def page(rows, old_doc, new_doc, names, threshold, renames=None):
    """Returns the page elements of the comparison (for compare.md and compare.html)."""
    notes = machines(old_doc, new_doc, names) + partial_notes(old_doc, new_doc, names) + rename_notes(renames, names)
    return ([Text(explanation(names, threshold))] + [Text(n) for n in notes]
            + [Heading("Changes"), table(rows), Text(verdict(rows))])
