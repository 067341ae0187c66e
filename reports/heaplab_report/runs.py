"""The results of a document grouped by (trace, backend): repeats, the representative run,
the traces, the backends, the baseline backend, and the machines that measured them."""
import json

from .load import InputError


def pairs(doc):
    """Returns {(trace, backend): [result, ...]} in the order the pairs first appear."""
    grouped = {}
    for r in doc["results"]:
        grouped.setdefault((r["trace"], r["backend"]), []).append(r)
    return grouped


def traces(doc):
    """Returns the traces of DOC, in the order they first appear."""
    return list(dict.fromkeys(r["trace"] for r in doc["results"]))


def backends(doc):
    """Returns the backends of DOC, in the order they first appear."""
    return list(dict.fromkeys(r["backend"] for r in doc["results"]))


def representative(results):
    """Returns the run of a pair's repeats whose ops/s is the median (the lower one of an
    even count; runs that were not measured sort first): every figure shown for the pair
    comes from that one result."""
    ordered = sorted(results, key=lambda r: (r["ops_per_sec"] is not None, r["ops_per_sec"] or 0))
    return ordered[(len(ordered) - 1) // 2]


def table(doc):
    """Returns [(trace, backend, runs, representative result)] in document order."""
    return [(t, b, len(rs), representative(rs)) for (t, b), rs in pairs(doc).items()]


def baseline(doc, name=None):
    """Returns the baseline backend: NAME, else `libc` if present, else the first backend
    (None when DOC has no results).

    Raises InputError when NAME is not a backend of DOC."""
    names = backends(doc)
    if name is None and not names:
        return None
    if name is None:
        return "libc" if "libc" in names else names[0]
    if name not in names:
        raise InputError(f"--baseline {name}: no such backend in the results (they have: {', '.join(names)})")
    return name


def relative_speed(doc, base):
    """Returns (traces, backends, rows): rows[i][j] is the ops/s of backend j on trace i over
    the baseline BASE's on that trace, None where either is missing or 0 (a run that
    crashed before timing anything)."""
    shown = {(t, b): r["ops_per_sec"] for t, b, _, r in table(doc)}
    ts, bs = traces(doc), backends(doc)
    rows = []
    for t in ts:
        ref = shown.get((t, base))
        rows.append([shown[(t, b)] / ref if ref and shown.get((t, b)) else None for b in bs])
    return ts, bs, rows


def machines(doc):
    """Returns the distinct machines DOC was measured on: its sources' (a merged document)
    or its own, in order."""
    seen = {}
    for m in [s["machine"] for s in doc.get("sources", [])] or [doc["machine"]]:
        seen.setdefault(json.dumps(m, sort_keys=True), m)
    return list(seen.values())


def where(doc):
    """Returns {trace: [source, ...]}: the inputs of a merged document that measured each
    trace (the sources that list their traces); {} for a document of one run."""
    found = {}
    for s in doc.get("sources", []):
        for t in s.get("traces", []):
            found.setdefault(t, []).append(s)
    return found
