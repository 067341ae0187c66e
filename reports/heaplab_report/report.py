"""The `render` command: one or more results documents to DIR/index.html (self-contained),
DIR/report.md with DIR/plots/*.png, and DIR/results.json (the merged input); with
--micro FILE, the micro-benchmarks folded into the document, which goes to
DIR/heaplab-results.json. Every file is written whole or not at all (outdir.py)."""
import json
import re
import subprocess
from pathlib import Path

from . import html, markdown, micro, partial, plots, runs, table
from .load import CURRENT, InputError, check, load_all
from .outdir import OutDir
from .page import Heading, Image, Text

TITLE = "heaplab report"
DOCUMENT = "heaplab-results.json"  # where a document with micro-benchmarks folded in goes


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


def _figure(fig, out, name, alt, missing):
    """Returns [Image] after writing FIG to OUT's plots/NAME.png, or [Text(MISSING)] when FIG is None."""
    if fig is None:
        return [Text(missing)]
    path = out.write(f"plots/{name}.png", plots.png(fig))
    return [Image(path, f"plots/{name}.png", alt)]


def _header(doc, paths, out):
    """Returns the page's opening elements: partial or not, sources, warnings, machine and build."""
    ts, bs = runs.traces(doc), runs.backends(doc)
    notice = partial.describe(doc)
    elements = ([Text(notice)] if notice else []) + [
        Text(f"From {', '.join(out.shown(p) for p in paths)}: {len(doc['results'])} results, "
             f"{len(ts)} traces x {len(bs)} backends.")]
    if "shard" in doc:
        s = doc["shard"]
        elements.append(Text(f"Shard {s['index']}/{s['count']}: {len(s['traces'])} of the "
                             f"{len(s['all_traces'])} traces of a split run (heaplab report --shard); heaplab "
                             "report --merge makes one report of the shards."))
    if doc["build"]["sanitized"]:
        elements.append(Text("Warning: a sanitized (ASan) build. Its times and footprints include the "
                             "sanitizer's work and memory: compare them only with other sanitized runs."))
    elements += [Heading("Machine and build"), table.machine(doc)]
    for extra in (table.sources(doc), table.backend_versions(doc)):
        if extra is not None:
            elements.append(extra)
    placements = table.placements(doc)
    if placements is not None:
        elements += [Heading("Where each trace ran"),
                     Text("The shards ran on different machines: a trace's figures (every backend's) come from "
                          "the one machine named here, so compare backends within a trace, not across machines."),
                     placements]
    return elements


def _summary(doc, out, base):
    """Returns the summary, relative speed and divergence sections."""
    elements = [Heading("Summary"),
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
                table.summary(doc, out),
                Heading("Relative speed")]
    elements += _figure(plots.relative_speed(doc, base), out, "relative-speed",
                        f"heat map of ops/s relative to {base}", "No results.")
    if base is not None:
        elements += [Text(f"ops/s over {base}'s on the same trace (>1: faster than {base})."),
                     table.relative_speed(doc, base)]
    divergences = table.divergences(doc, out)
    elements += [Heading("Divergences"), divergences or Text("No divergences.")]
    return elements


def _trace(doc, trace, name, out, style):
    """Returns the section of TRACE: latency per kind, footprint over time, fragmentation."""
    elements = [Heading(f"Trace {trace}")]
    where = table.measured_on(doc, trace)
    if where:
        elements.append(Text(f"Measured on {where}."))
    elements.append(Heading("Latency", 3))
    elements += _figure(plots.latency_cdf(doc, trace, style), out, f"latency-{name}",
                        f"latency CDF on {trace}",
                        "No latency measured on this trace (replay without --latency): no CDF plot.")
    kinds = table.kinds(doc, trace)
    if kinds is not None:
        elements.append(kinds)
    elements.append(Heading("Footprint over time", 3))
    elements += _figure(plots.footprint(doc, trace, style), out, f"footprint-{name}",
                        f"footprint over time on {trace}", "No fragmentation measured on this trace: no plot.")
    elements.append(Heading("Fragmentation", 3))
    elements += _figure(plots.fragmentation(doc, trace), out, f"fragmentation-{name}",
                        f"fragmentation ratios on {trace}", "No fragmentation measured on this trace: no plot.")
    return elements


def _repetitions(section):
    counts = sorted({c["repetitions"] for c in section["cases"]})
    if counts == [1]:
        return "one run each"
    if len(counts) == 1:
        return f"the median of {counts[0]} repetitions"
    return f"the median of each case's repetitions ({counts[0]} to {counts[-1]})"


def _micro_machine(doc, context):
    """Returns where and when the micro-benchmarks ran, as the section says it."""
    cpus = [f"{context['num_cpus']} CPUs" if "num_cpus" in context else None,
            f"at {context['mhz_per_cpu']:g} MHz" if "mhz_per_cpu" in context else None]
    cpus = " ".join(c for c in cpus if c)
    where = f"measured on {context.get('host_name', 'an unnamed host')}" + (f" ({cpus})" if cpus else "")
    if "date" in context:
        where += f" on {context['date']}"
    hosts = list(dict.fromkeys(m["hostname"] for m in runs.machines(doc))) if doc["results"] else []
    if hosts and "host_name" in context and context["host_name"] not in hosts:
        where += f", not the machine the traces were measured on ({', '.join(hosts)})"
    return where


def _micro(doc):
    """Returns the Micro-benchmarks section: what the figures are, the table, what did not run."""
    section, context = doc["micro"], doc["micro"]["context"]
    results = micro.results_of(section)
    kinds = list(dict.fromkeys(f.split("/")[0] for f in micro.families(results)))
    iteration = "; ".join(f"{k}: {micro.ITERATION[k]}" for k in kinds if k in micro.ITERATION)
    out = [Heading("Micro-benchmarks"),
           Text(f"Google Benchmark's figures, from {section['file']} (build/bench-micro, bench/micro/; folded in "
                f"by heaplab report --micro), {_micro_machine(doc, context)}. Each figure is Google Benchmark's "
                f"CPU time per iteration in ns, {_repetitions(section)}. One row per family, one column per "
                "target: a backend through its contract table, or raw:NAME, a malloc called through its own "
                "entry points. 'NAME / fastest raw' is a reference backend's time over the fastest raw peer's "
                "in the same row (below 1: faster than every raw malloc measured). These come from another "
                "harness than the measure path's figures above: compare them within this table."
                + (f" One iteration: {iteration}." if iteration else ""))]
    if micro.debug_build(section):
        out.append(Text("Warning: Google Benchmark reports a debug build of its library (library_build_type "
                        "\"debug\"), and warns that timings may be affected by it: compare these figures only "
                        "with figures taken with the same build."))
    out.append(table.micro_benchmarks(section))
    not_run = table.micro_not_run(section)
    if not_run is not None:
        out.append(not_run)
    return out


def with_micro(doc, name, path):
    """Returns DOC (read from NAME) with the micro-benchmarks of the Google Benchmark file
    PATH folded in as "micro" (replacing any it had), validated. Raises InputError naming
    PATH when it is not such a file, or naming NAME when DOC is of an older schema_version
    (which has no micro)."""
    section = micro.fold(path)
    if doc["schema_version"] != CURRENT:
        raise InputError(f"{name}: schema_version {doc['schema_version']}: --micro {path} folds into a "
                         f"schema_version {CURRENT} document only (measure it again)")
    return check({**doc, "micro": section}, f"{name} with {path} folded in")


def title(doc):
    """Returns the page title: TITLE, marked when the document is partial."""
    return f"{TITLE} (partial)" if partial.of(doc) is not None else TITLE


def render(paths, out_dir, baseline=None, commit=None, micro_file=None, final=None):
    """Writes the report of the results documents PATHS into OUT_DIR; returns index.html's path.

    MICRO_FILE, a Google Benchmark JSON file of build/bench-micro's, is folded into the
    document (see with_micro), which is written to OUT_DIR/heaplab-results.json (replacing
    the input when it is that file). COMMIT (default: the source tree's git commit) is
    added as build.commit when the document has none. FINAL: the folder OUT_DIR is renamed
    to once complete (outdir.OutDir): the pages name its paths. Raises InputError for bad
    input (see load.load_all, with_micro, runs.baseline) before anything is written, and
    WriteError naming the file when one cannot be written (each file is whole or absent)."""
    out = OutDir(out_dir, final)
    doc = load_all(paths)
    folded = None
    if micro_file is not None:
        doc = with_micro(doc, ", ".join(out.shown(p) for p in paths), micro_file)
        folded = json.dumps(doc, indent=1) + "\n"
    if "commit" not in doc["build"]:
        commit = commit or tree_commit()
        if commit:
            doc["build"]["commit"] = commit
    base = runs.baseline(doc, baseline)
    out.make("plots")
    if folded is not None:
        out.write(DOCUMENT, folded)
    out.write("results.json", json.dumps(doc) + "\n")
    style = plots.styles(runs.backends(doc))
    elements = _header(doc, paths, out) + _summary(doc, out, base)
    if "micro" in doc:
        elements += _micro(doc)
    for trace, name in slugs(runs.traces(doc)).items():
        elements += _trace(doc, trace, name, out, style)
    out.write("report.md", markdown.render(title(doc), elements))
    return out.write("index.html", html.render(title(doc), elements))
