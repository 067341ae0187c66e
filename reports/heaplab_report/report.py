"""The `render` command: one or more results documents to DIR/index.html (self-contained),
DIR/report.md with DIR/plots/*.png, and DIR/results.json (the merged input)."""
import json
import re
import subprocess
from pathlib import Path

from . import html, markdown, plots, runs, table
from .load import load_all
from .page import Heading, Image, Text

TITLE = "heaplab report"


def tree_commit():
    """Returns the git commit of the source tree holding this package, or None outside git."""
    try:
        proc = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def slugs(traces):
    """Returns {trace: file-name stem}: the trace's base name without .trace/.zst, made of
    [A-Za-z0-9._-], numbered when two traces share one."""
    result, taken = {}, set()
    for trace in traces:
        stem = re.sub(r"(\.zst)?$", "", Path(trace).name)
        stem = re.sub(r"\.trace$", "", stem)
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "trace"
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name)
        result[trace] = name
    return result


def _figure(fig, out_dir, name, alt, missing):
    """Returns [Image] after writing FIG to DIR/plots/NAME.png, or [Text(MISSING)] when FIG is None."""
    if fig is None:
        return [Text(missing)]
    path = plots.save(fig, out_dir / "plots" / f"{name}.png")
    return [Image(path, f"plots/{name}.png", alt)]


def _header(doc, paths):
    """Returns the page's opening elements: sources, warnings, machine and build."""
    ts, bs = runs.traces(doc), runs.backends(doc)
    out = [Text(f"From {', '.join(map(str, paths))}: {len(doc['results'])} results, "
                f"{len(ts)} traces x {len(bs)} backends.")]
    if "shard" in doc:
        s = doc["shard"]
        out.append(Text(f"Shard {s['index']}/{s['count']}: {len(s['traces'])} of the {len(s['all_traces'])} traces "
                        "of a split run (heaplab report --shard); heaplab report --merge makes one report of "
                        "the shards."))
    if doc["build"]["sanitized"]:
        out.append(Text("Warning: a sanitized (ASan) build. Its times and footprints include the "
                        "sanitizer's work and memory: compare them only with other sanitized runs."))
    out += [Heading("Machine and build"), table.machine(doc)]
    for extra in (table.sources(doc), table.backend_versions(doc)):
        if extra is not None:
            out.append(extra)
    placements = table.placements(doc)
    if placements is not None:
        out += [Heading("Where each trace ran"),
                Text("The shards ran on different machines: a trace's figures (every backend's) come from "
                     "the one machine named here, so compare backends within a trace, not across machines."),
                placements]
    return out


def _summary(doc, out_dir, base):
    """Returns the summary, relative speed and divergence sections."""
    out = [Heading("Summary"),
           Text("One row per trace and backend. ops/s and ns/op come from the measure path: the trace "
                "pre-decoded and run in a loop that holds nothing but the backend's calls and a write of "
                "each new block's first byte, in a fresh process; the figure is the median of its warm "
                "passes (the first, cold pass is in the results document). A malloc-style backend (libc, "
                "the peers, a malloc:PREFIX@LIB library) is called through its own malloc, free and realloc "
                "wherever they serve the step as the contract would, as a hand-written loop calls them; a "
                "contract backend through its table. heaplab ns/op is the same loop on the same path over a "
                "backend that does no work: heaplab's own share of every ns/op on that trace. A run "
                "of fewer than 10,000 operations or under 1 ms in all is 'not measured': an allocator's "
                "start-up or one timer interrupt would be most of it. Latency columns are the "
                "alloc calls' percentiles in ns (top of their histogram bucket), fragmentation columns "
                "Johnstone-Wilson's ratios of footprint to live bytes (1.00: none). With repeated runs, "
                "every figure of a row comes from the run with the median ops/s. Skipped ops (not sent: a "
                "feature the backend lacks, an id whose alloc failed) and failed calls (out of memory, "
                "capacity) mean the row measures less of the trace than its neighbours. '-': not measured."),
           table.summary(doc, out_dir),
           Heading("Relative speed")]
    out += _figure(plots.relative_speed(doc, base), out_dir, "relative-speed",
                   f"heat map of ops/s relative to {base}", "No results.")
    if base is not None:
        out += [Text(f"ops/s over {base}'s on the same trace (>1: faster than {base})."),
                table.relative_speed(doc, base)]
    divergences = table.divergences(doc, out_dir)
    out += [Heading("Divergences"), divergences or Text("No divergences.")]
    return out


def _trace(doc, trace, name, out_dir, style):
    """Returns the section of TRACE: latency per kind, footprint over time, fragmentation."""
    out = [Heading(f"Trace {trace}")]
    where = table.measured_on(doc, trace)
    if where:
        out.append(Text(f"Measured on {where}."))
    out.append(Heading("Latency", 3))
    out += _figure(plots.latency_cdf(doc, trace, style), out_dir, f"latency-{name}",
                   f"latency CDF on {trace}",
                   "No latency measured on this trace (replay without --latency): no CDF plot.")
    kinds = table.kinds(doc, trace)
    if kinds is not None:
        out.append(kinds)
    out.append(Heading("Footprint over time", 3))
    out += _figure(plots.footprint(doc, trace, style), out_dir, f"footprint-{name}",
                   f"footprint over time on {trace}", "No fragmentation measured on this trace: no plot.")
    out.append(Heading("Fragmentation", 3))
    out += _figure(plots.fragmentation(doc, trace), out_dir, f"fragmentation-{name}",
                   f"fragmentation ratios on {trace}", "No fragmentation measured on this trace: no plot.")
    return out


def render(paths, out_dir, baseline=None, commit=None):
    """Writes the report of the results documents PATHS into OUT_DIR; returns index.html's path.

    COMMIT (default: the source tree's git commit) is added as build.commit when the
    document has none. Raises InputError for bad input (see load.load_all,
    runs.baseline) and OSError when OUT_DIR cannot be written."""
    doc = load_all(paths)
    if "commit" not in doc["build"]:
        commit = commit or tree_commit()
        if commit:
            doc["build"]["commit"] = commit
    base = runs.baseline(doc, baseline)
    out_dir = Path(out_dir)
    (out_dir / "plots").mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(doc) + "\n")
    style = plots.styles(runs.backends(doc))
    elements = _header(doc, paths) + _summary(doc, out_dir, base)
    for trace, name in slugs(runs.traces(doc)).items():
        elements += _trace(doc, trace, name, out_dir, style)
    (out_dir / "report.md").write_text(markdown.render(TITLE, elements))
    index = out_dir / "index.html"
    index.write_text(html.render(TITLE, elements))
    return index
