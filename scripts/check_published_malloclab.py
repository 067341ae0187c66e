#!/usr/bin/python3
"""Imports every CMU malloc-lab trace (.rep) under a directory with `heaplab import
--from malloclab` and replays each result on every backend (`heaplab replay --json
--backends all`): the check that the importer reads the published traces and that
what it makes replays clean. `make check-published-malloclab DIR=...` runs it.

Prints a line a trace (a failure names its import error, or each backend's finding),
then how many runs were clean on each backend, then the summary
`N imported, N replayed clean, N failed`. Exit status 0: every trace imported and
replayed clean; 1: a failure; 2: bad usage or no .rep file under DIR.

The traces are not part of heaplab (their licences are their authors'): bring them
from wherever they are published and point this at their folder."""
import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def last_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def check(heaplab, backends, rep, name, work):
    """One trace: (imported, clean, message, {backend: clean}, summary of the import)."""
    out = work / (name[: -len(".rep")].replace("/", "_") + ".trace")
    proc = subprocess.run([heaplab, "import", "--from", "malloclab", str(rep), "-o", str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return False, False, f"import failed: {last_line(proc.stderr)}", {}, ""
    imported = last_line(proc.stderr)
    summary = imported.split(": ", 2)[-1].split(" -> ")[0] if "imported" in imported else ""
    proc = subprocess.run([heaplab, "replay", "--json", "-q", "--backends", backends,
                           "--findings", str(work / "findings"), str(out)], capture_output=True, text=True)
    try:
        results = json.loads(proc.stdout)["results"]
    except (ValueError, KeyError):
        return True, False, f"replay exit {proc.returncode}: {last_line(proc.stderr)}", {}, summary
    per_backend = {r["backend"]: "finding" not in r for r in results}
    findings = [f"{r['backend']}: {r['finding']['rule']} at operation {r['finding']['index']}: "
                f"{r['finding']['message']}" for r in results if "finding" in r]
    clean = proc.returncode == 0 and not findings and bool(results)
    if clean:
        return True, True, "", per_backend, summary
    message = "; ".join(findings) or f"replay exit {proc.returncode}: {last_line(proc.stderr)}"
    return True, False, message, per_backend, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path, help="a directory holding .rep files (searched recursively)")
    parser.add_argument("--heaplab", default=str(ROOT / "build" / "heaplab"), help="the driver (build/heaplab)")
    parser.add_argument("--backends", default="all", help="the backends to replay on (all)")
    parser.add_argument("--keep", type=Path, help="write the imported traces and any reproducers here "
                                                 "(by default a temporary directory, removed)")
    args = parser.parse_args()
    if not args.dir.is_dir():
        print(f"check_published_malloclab: {args.dir}: not a directory", file=sys.stderr)
        return 2
    reps = sorted(p for p in args.dir.rglob("*.rep") if p.is_file())
    if not reps:
        print(f"check_published_malloclab: no .rep file under {args.dir}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="heaplab-malloclab-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        imported = clean = 0
        failed = []
        backend_clean, backend_runs = Counter(), Counter()
        for rep in reps:
            name = str(rep.relative_to(args.dir))
            ok_import, ok_replay, message, per_backend, summary = check(args.heaplab, args.backends, rep, name, work)
            imported += ok_import
            clean += ok_replay
            for backend, ok in per_backend.items():
                backend_runs[backend] += 1
                backend_clean[backend] += ok
            if ok_replay:
                print(f"ok      {name}: {summary}; clean on {len(per_backend)} backends", flush=True)
            else:
                failed.append(name)
                print(f"FAILED  {name}: {message}", flush=True)
        print()
        for backend in backend_runs:
            print(f"{backend:<10} {backend_clean[backend]} of {backend_runs[backend]} replayed clean")
        if failed:
            print(f"failed: {', '.join(failed)}")
            if not args.keep:
                print("(--keep DIR keeps the imported traces and the reproducers)")
        print(f"{imported} imported, {clean} replayed clean, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
