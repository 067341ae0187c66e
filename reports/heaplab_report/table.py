"""The report's tables, built from a results document: the summary per (trace, backend),
latency per kind, relative speed, divergences, the machine and build, and the
micro-benchmarks."""

from . import fmt, micro, runs
from .page import Link, Table

SUMMARY_HEADERS = ["Trace", "Backend", "Runs", "ops/s", "ns/op", "heaplab ns/op", "alloc p50 ns", "alloc p99 ns", "alloc p99.9 ns",
                   "alloc max ns", "frag time avg", "frag at peak live", "frag at peak footprint",
                   "frag peak-to-peak", "peak footprint bytes", "skipped ops", "failed calls", "divergences"]
FRAGMENTATION = ["time_average", "at_peak_live", "at_peak_footprint", "peak_to_peak"]
KIND_FIGURES = ["mean_ns", "min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"]


def reproducer(path, out):
    """Returns a Link to the reproducer PATH relative to the report's folder OUT (an
    outdir.OutDir; relative paths in the document are taken from the current directory),
    or PATH as text when no relative path exists; " (missing)" is appended when the file
    is not there."""
    note = "" if out.actual(path).exists() else " (missing)"
    try:
        return Link(path + note, out.link(path))
    except ValueError:
        return path + note


def _divergence_cell(result, out):
    finding = result.get("finding")
    if finding and finding.get("ignored"):
        return f"0 (ignored: {finding['rule']})"
    if not result["divergences"]:
        return "0"
    if not finding:
        return str(result["divergences"])
    text = f"{result['divergences']}: {finding['rule']}"
    if finding["reproducer"]:
        link = reproducer(finding["reproducer"], out)
        return Link(text, link.href) if isinstance(link, Link) else f"{text} ({link})"
    return text


def summary(doc, out):
    """Returns the summary Table: one row per (trace, backend), the representative run's
    ops/s and ns per operation from the measure path (its warm passes' median) next to
    heaplab's own ns per operation on the same trace (the measure path over the null
    backend: what the loop costs with an allocator that does nothing), alloc latency
    percentiles, four fragmentation measures, peak footprint, the
    operations it skipped and the calls that failed (a backend that skips or fails much
    of a trace is measured on less of it) and divergences; "-" where the run measured no
    latency or fragmentation."""
    rows = []
    for trace, backend, count, r in runs.table(doc):
        alloc = (r["latency"] or {}).get("kinds", {}).get("alloc", {})
        frag = r["fragmentation"] or {}
        speed = r.get("speed") or {}
        rows.append([trace, backend, str(count), fmt.rate(r["ops_per_sec"]), fmt.ns_or_not(speed.get("ns_per_op")),
                     fmt.ns_or_not(speed.get("null_ns_per_op"))]
                    + [fmt.ns(alloc.get(k)) for k in ("p50_ns", "p99_ns", "p999_ns", "max_ns")]
                    + [fmt.ratio(frag.get(k)) if frag.get(k) is not None or k not in frag else fmt.NOT_APPLICABLE
                       for k in FRAGMENTATION]
                    + [fmt.count_or_not(r["peak_footprint_bytes"]), fmt.count(r["skipped"]), fmt.count(r["failures"]),
                       _divergence_cell(r, out)])
    return Table(SUMMARY_HEADERS, rows, labels=2)


def kinds(doc, trace):
    """Returns the Table of TRACE's latency per backend and kind (calls, mean, min and
    percentiles in ns), or None when no run of TRACE measured latency."""
    rows = []
    for t, backend, _, r in runs.table(doc):
        if t != trace or not r["latency"]:
            continue
        for kind, h in r["latency"]["kinds"].items():
            rows.append([backend, kind, fmt.count(h["count"])] + [fmt.ns(h[k]) for k in KIND_FIGURES])
    headers = ["Backend", "Kind", "calls", "mean ns", "min ns", "p50 ns", "p90 ns", "p99 ns", "p99.9 ns", "max ns"]
    return Table(headers, rows, labels=2) if rows else None


def relative_speed(doc, base):
    """Returns the Table of ops/s relative to the baseline backend BASE, trace x backend."""
    ts, bs, rows = runs.relative_speed(doc, base)
    return Table(["Trace"] + bs, [[t] + [fmt.times(v) for v in row] for t, row in zip(ts, rows)])


def divergences(doc, out):
    """Returns the Table of the runs that diverged (rule, message, reproducer linked
    relative to the report's folder OUT, operation index, trace line), known findings
    (--ignore) among them marked ignored, or None when none did."""
    rows = []
    for r in doc["results"]:
        if not r["divergences"] and "finding" not in r:
            continue
        f = r.get("finding")
        if f is None:
            rows.append([r["trace"], r["backend"], "-", "diverged (no finding recorded)", "-", "-", "-"])
            continue
        repro = reproducer(f["reproducer"], out) if f["reproducer"] else "-"
        rule = f"{f['rule']} (ignored: --ignore)" if f.get("ignored") else f["rule"]
        rows.append([r["trace"], r["backend"], rule, f["message"], repro, str(f["index"]), str(f["line"])])
    headers = ["Trace", "Backend", "Rule", "Message", "Reproducer", "op index", "trace line"]
    return Table(headers, rows, labels=5) if rows else None


def _timer(doc):
    for r in doc["results"]:
        if r["latency"]:
            t = r["latency"]["timer"]
            return (f"{t['source']}: resolution {fmt.ns(round(t['resolution_ns'], 1))} ns, "
                    f"{fmt.ns(round(t['overhead_ns'], 1))} ns overhead subtracted from every call")
    return None


def cpu(m):
    """Returns a machine's CPU as the report shows it: model and count."""
    return f"{m.get('cpu_model', 'unknown model')}, {m['cpus']} CPUs"


def _os(m):
    return " ".join(m[k] for k in ("os", "release", "arch") if k in m)


def machine(doc):
    """Returns the Table of the machine and build DOC ran on (and the latency timer); with
    several machines (a merged document) each row lists theirs, distinct ones once."""
    ms, b = runs.machines(doc), doc["build"]

    def each(show):
        return "; ".join(dict.fromkeys(show(m) for m in ms))
    items = [
        ("host" if len(ms) == 1 else f"hosts ({len(ms)} machines)", each(lambda m: m["hostname"])),
        ("CPU", each(cpu)),
        ("OS", each(_os)),
        ("heaplab", b["heaplab"] + (f" (commit {b['commit']})" if "commit" in b else "")),
        ("build id", b.get("id", "-")),
        ("backend contract", str(b["contract_version"])),
        ("compiler", b["compiler"]),
        ("flags", b.get("flags", "-")),
        ("optimized", "yes" if b["optimized"] else "no"),
        ("sanitized", "yes: times and footprints are not comparable with a release build" if b["sanitized"]
         else "no"),
        ("latency timer", _timer(doc) or "not measured (replay without --latency)"),
    ]
    return Table(["", "ran on"], [list(i) for i in items], labels=2)


def backend_versions(doc):
    """Returns the Table of backend_version per backend, or None when no result has one."""
    versions = {}
    for r in doc["results"]:
        if "backend_version" in r:
            versions.setdefault(r["backend"], []).append(r["backend_version"])
    rows = [[b, ", ".join(dict.fromkeys(v))] for b, v in versions.items()]
    return Table(["Backend", "version"], rows, labels=2) if rows else None


def _shard(source):
    s = source.get("shard")
    return f"{s['index']}/{s['count']}" if s else "-"


def sources(doc):
    """Returns the Table of the input files of a merged document (shard, host, build,
    traces and results each), or None for one input."""
    if "sources" not in doc:
        return None
    rows = [[s["file"], _shard(s), s["machine"]["hostname"], s["build"]["heaplab"] + (" " + s["build"]["commit"]
             if "commit" in s["build"] else ""), s["build"]["compiler"],
             str(len(s["traces"])) if "traces" in s else "-", str(s["results"])]
            for s in doc["sources"]]
    return Table(["File", "shard", "host", "heaplab", "compiler", "traces", "results"], rows, labels=5)


def measured_on(doc, trace):
    """Returns "host (CPU)" of the machines that measured TRACE in a merged document, or
    None when DOC was measured on one machine only (then the header says which)."""
    if len(runs.machines(doc)) < 2:
        return None
    found = runs.where(doc).get(trace, [])
    return "; ".join(dict.fromkeys(f"{s['machine']['hostname']} ({cpu(s['machine'])})" for s in found)) or None


def placements(doc):
    """Returns the Table of which machine measured each trace, or None when one machine
    measured them all."""
    if len(runs.machines(doc)) < 2:
        return None
    where = runs.where(doc)
    rows = [[t, "; ".join(dict.fromkeys(s["machine"]["hostname"] for s in where.get(t, []))) or "-",
             "; ".join(dict.fromkeys(cpu(s["machine"]) for s in where.get(t, []))) or "-",
             "; ".join(dict.fromkeys(_shard(s) for s in where.get(t, []))) or "-"]
            for t in runs.traces(doc)]
    return Table(["Trace", "host", "CPU", "shard"], rows, labels=4)


MICRO_SKIPPED = "skipped"  # a micro-benchmark case that stopped with an error


def micro_benchmarks(section):
    """Returns the Table of a results document's "micro" SECTION: one row per family, one
    column per target (CPU ns per iteration; MICRO_SKIPPED for a case that stopped with an
    error, "-" for one that did not run), the family's fastest raw peer, and per reference
    backend its time over that peer's (micro.FamilyRow.ratio)."""
    results = micro.results_of(section)
    targets = micro.targets(results)
    references = [t for t in micro.REFERENCE if t in targets]
    rows = []
    for row in micro.family_rows(results):
        cells = [row.family]
        for target in targets:
            case = row.cases.get(target)
            if case is None:
                cells.append(fmt.DASH)
            else:
                cells.append(MICRO_SKIPPED if case.error is not None else fmt.ns_fine(case.ns))
        cells.append(row.raw.target if row.raw else fmt.DASH)
        rows.append(cells + [fmt.times_fine(row.ratio(t)) for t in references])
    headers = ["Family"] + targets + ["fastest raw"] + [f"{t} / fastest raw" for t in references]
    return Table(headers, rows)


def micro_not_run(section):
    """Returns the Table of the micro-benchmark cases that stopped with an error and the
    targets bench-micro left out, each with why; None when everything ran."""
    rows = [[c["name"], c["error_message"]] for c in section["cases"] if "error_message" in c]
    rows += [[f"{target} (every family)", why] for target, why in section["context"]["skipped"].items()]
    return Table(["Not measured", "why"], rows, labels=2) if rows else None
