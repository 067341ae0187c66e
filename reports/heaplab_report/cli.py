"""The command line: `python3 -m heaplab_report render|compare|merge|micro ...` (argparse);
bad input is a one-line message naming the file on stderr and exit status 2."""
import argparse
import json
import sys
import textwrap
from pathlib import Path

from . import compare, html, markdown, merge, micro, partial, runs, text
from .errors import WriteError
from .load import READS, InputError, check, load, versions_text
from .outdir import OutDir

PROG = "heaplab_report"


def _percent(value):
    """Returns the fraction of a percentage argument ("10" or "10%"); raises ArgumentTypeError."""
    try:
        number = float(value.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a percentage: {value!r}") from None
    if not 0 <= number < 1000:
        raise argparse.ArgumentTypeError(f"percentage out of range: {value!r}")
    return number / 100


def _renamed_to(sub):
    sub.add_argument("--renamed-to", metavar="FINAL",
                     help="DIR is a folder the caller renames to FINAL once the report is complete (heaplab "
                     "report builds it beside FINAL): the pages name FINAL's paths, and no report: line is "
                     "printed (the caller prints it once the folder is in place)")


def _rename(text):
    old, eq, new = text.partition("=")
    if not eq or not old or not new:
        raise argparse.ArgumentTypeError(f"'{text}' is not OLD=NEW (two backend labels)")
    return old, new


def parser():
    """Returns the argument parser with the render and compare subcommands."""
    top = argparse.ArgumentParser(prog=PROG, description="Reports on heaplab results documents "
                                  "(`heaplab replay --json` output; schema_version "
                                  f"{versions_text(READS)}).")
    sub = top.add_subparsers(dest="command", required=True, metavar="{render,compare,merge,micro}")
    render = sub.add_parser("render", help="write an HTML and Markdown report with plots",
                            description="Writes DIR/index.html (self-contained: plots embedded), DIR/report.md "
                            "with DIR/plots/*.png, and DIR/results.json (the input, merged). Several documents "
                            "are merged; a sanitized and a release build are not mixed.")
    render.add_argument("results", nargs="+", metavar="RESULTS.json", help="results documents")
    render.add_argument("--out", required=True, metavar="DIR", help="output directory (created)")
    render.add_argument("--baseline", metavar="NAME",
                        help="backend the relative speeds are measured against (default: libc if present, "
                        "else the first backend)")
    render.add_argument("--commit", metavar="SHA",
                        help="git commit to record as build.commit when the document has none "
                        "(default: the commit of the source tree holding this package)")
    render.add_argument("--micro", metavar="FILE",
                        help="fold the micro-benchmarks of FILE (build/bench-micro's --benchmark_format=json "
                        "output) into the document, written to DIR/heaplab-results.json, and show them as a table")
    _renamed_to(render)
    cmp = sub.add_parser("compare", help="show what changed between two runs",
                         description="Compares two results documents per (trace, backend): ops/s, alloc "
                         "latency p50/p99 and peak footprint, medians old -> new and their ratio. A change is "
                         "flagged when the ratio exceeds max(threshold, 3 x the noise of repeated runs). "
                         "Exit status: 0 no regression, 1 something SLOWER or LARGER, 2 bad input.")
    cmp.add_argument("old", metavar="A.json", help="the old run")
    cmp.add_argument("new", metavar="B.json", help="the new run")
    cmp.add_argument("--threshold", type=_percent, default=0.10, metavar="PCT",
                     help="smallest change flagged, in percent (default 10)")
    cmp.add_argument("--out", metavar="DIR", help="also write DIR/compare.md and DIR/compare.html")
    cmp.add_argument("--as", dest="renames", action="append", default=[], type=_rename, metavar="OLD=NEW",
                     help="compare A's backend labelled OLD with B's labelled NEW (repeatable); pairs "
                     "otherwise match by trace file name and backend label")
    _renamed_to(cmp)
    mrg = sub.add_parser("merge", help="one report from the documents of `heaplab report --shard I/N` runs",
                         description="Checks that the documents are the shards of one split (one heaplab build, "
                         "shards 1..N each once, every trace in one shard), writes the merged document to "
                         "DIR/heaplab-results.json and renders it as `render` does. Exit status: 0, 1 when a "
                         "shard found a divergence, 2 bad input or a refused merge.")
    mrg.add_argument("results", nargs="+", metavar="SHARD.json", help="the shards' results documents")
    mrg.add_argument("--out", required=True, metavar="DIR", help="output directory (created)")
    mrg.add_argument("--baseline", metavar="NAME", help="as for render")
    mrg.add_argument("--commit", metavar="SHA", help="as for render")
    _renamed_to(mrg)
    mic = sub.add_parser("micro", help="check a Google Benchmark JSON file as render --micro reads it",
                         description="Reads FILE (build/bench-micro's --benchmark_format=json output) as render "
                         "--micro does and prints one line about it. Exit status: 0, 2 when FILE is missing, not "
                         "JSON or not a Google Benchmark document of micro-benchmark cases.")
    mic.add_argument("file", metavar="FILE", help="the Google Benchmark JSON file")
    return top


def run_render(args):
    """Renders the report; returns exit status 0 (prints the path of index.html)."""
    from .report import render  # matplotlib loads only for render
    index = render(args.results, args.out, baseline=args.baseline, commit=args.commit, micro_file=args.micro,
                   final=args.renamed_to)
    if args.renamed_to is None:
        print(f"report: {index}")
    return 0


def run_micro(args):
    """Checks a Google Benchmark file as render --micro reads it; returns 0 (prints what it holds)."""
    section = micro.fold(args.file)
    results = micro.results_of(section)
    stopped = sum(1 for r in results.values() if r.error is not None)
    context = section["context"]
    print(f"micro: {args.file}: {len(results)} cases ({len(micro.families(results))} families x "
          f"{len(micro.targets(results))} targets), {stopped} stopped with an error, "
          f"{len(context['skipped'])} targets left out; measured on {context.get('host_name', 'an unnamed host')}"
          + (f" on {context['date']}" if "date" in context else "")
          + (" (a debug build of Google Benchmark)" if micro.debug_build(section) else ""))
    return 0


def run_compare(args):
    """Compares two documents; returns 1 when something regressed, else 0."""
    names = (args.old, args.new)
    old_doc, new_doc = load(args.old), load(args.new)
    renames = dict(args.renames)
    rows = compare.compare(old_doc, new_doc, args.threshold, names, renames)
    print(textwrap.fill(compare.explanation(names, args.threshold), 100))
    for note in (compare.machines(old_doc, new_doc, names) + compare.partial_notes(old_doc, new_doc, names)
                 + compare.rename_notes(renames, names)):
        print(note)
    print()
    sys.stdout.write(text.render(compare.table(rows)))
    print()
    print(compare.verdict(rows))
    if args.out:
        out = OutDir(args.out, args.renamed_to)
        elements = compare.page(rows, old_doc, new_doc, names, args.threshold, renames)
        out.write("compare.md", markdown.render("heaplab compare", elements))
        out.write("compare.html", html.render("heaplab compare", elements))
    return 1 if compare.regressed(rows) else 0


def run_merge(args):
    """Merges shard documents into DIR/heaplab-results.json and renders it; returns 1 when a
    shard found a divergence, else 0."""
    out = OutDir(args.out, args.renamed_to)
    document = out.path / "heaplab-results.json"
    for path in args.results:
        if Path(path).resolve() in (document.resolve(), (out.final / document.name).resolve()):
            raise InputError(f"--out {out.final} would overwrite {path}: merge into another directory")
    named = [(path, load(path, merge.READS, merge.READER)) for path in args.results]
    doc = check(merge.merge(named), out.shown(document))  # what this writes, it must read back
    out.write(document.name, json.dumps(doc, indent=1) + "\n")
    from .report import render  # matplotlib loads only for render
    index = render([document], out.path, baseline=args.baseline, commit=args.commit, final=args.renamed_to)
    shards = [s["shard"] for s in doc["sources"] if "shard" in s]
    split = f" (shards 1-{shards[0]['count']} of {shards[0]['count']})" if shards else ""
    machines = len(runs.machines(doc))
    print(f"merged: {len(named)} documents{split}: {len(runs.traces(doc))} traces x {len(runs.backends(doc))} "
          f"backends measured on {machines} machine{'s' if machines != 1 else ''}, into {out.shown(document)}")
    if args.renamed_to is None:
        print(f"report: {index}")
    return 1 if any(r["divergences"] for r in doc["results"]) else 0


COMMANDS = {"render": run_render, "compare": run_compare, "merge": run_merge, "micro": run_micro}


def main(argv=None):
    """Runs the command line ARGV; returns the exit status (0, 1 from compare or merge, 2 bad input)."""
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (InputError, WriteError) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
    except OSError as e:
        print(f"{PROG}: {e.filename + ': ' if e.filename else ''}{e.strerror or e}", file=sys.stderr)
    return 2
