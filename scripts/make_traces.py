#!/usr/bin/python3
"""`make traces`: records real programs available on Debian 12 with `heaplab record`,
stores each trace zstd-compressed under traces/real/ and writes traces/real/README.md
(program, command, operations, peak live bytes, threads, size).

    scripts/make_traces.py [--heaplab build/heaplab]

A program that runs several images (gcc: the driver, cc1, as) keeps the one with the
most operations. Needs gcc, git, perl, sqlite3 and python3 (all on a Debian 12 with
heaplab's dependencies but sqlite3, which is skipped with a note when missing)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "traces/real"

PY_SCRIPT = ("import json, collections\n"
             "rows = [{'id': i, 'name': 'item%d' % i, 'tags': [str(i % 7), str(i % 11)]} for i in range(5000)]\n"
             "text = json.dumps(rows)\n"
             "back = json.loads(text)\n"
             "counts = collections.Counter(t for r in back for t in r['tags'])\n"
             "print(len(text), sorted(counts.items())[:3])\n")

SQL = ("create table t(id integer primary key, name text, value real);\n"
       "with recursive n(i) as (select 1 union all select i + 1 from n where i < 20000)\n"
       "insert into t select i, 'name' || i, i * 0.5 from n;\n"
       "create index t_name on t(name);\n"
       "select count(*), sum(value) from t where name like 'name1%';\n"
       "select name from t order by value desc limit 5;\n")


def programs(work):
    text = work / "words.txt"
    text.write_text("".join(f"alpha{i % 997} beta{i % 89} gamma{(i * 31) % 4001}\n" for i in range(30000)))
    (work / "q.sql").write_text(SQL)
    return [
        ("python-json", "Python 3.11 building, dumping and loading a 5,000-row JSON document "
         "(PYTHONMALLOC=malloc, so its small objects reach malloc)",
         ["/usr/bin/python3", "-c", PY_SCRIPT], {"PYTHONMALLOC": "malloc"}),
        ("gcc-cc1", "gcc 12 compiling check/shadow.c at -O1 (the cc1 image)",
         ["gcc", "-O1", "-D_GNU_SOURCE", *[a for d in ("core", "trace", "run", "measure", "check") for a in ("-I", str(ROOT / d))], "-I", str(ROOT / "allocators/include"),
          "-I", str(ROOT / "allocators"), "-I", str(ROOT / "allocators/source"), "-c", str(ROOT / "check/shadow.c"),
          "-o", str(work / "shadow.o")], {}),
        ("git-log", "git log --stat on heaplab's own history",
         ["git", "-C", str(ROOT), "--no-pager", "log", "--stat", "-n", "60"], {}),
        ("perl-words", "perl counting the words of a 30,000-line text into a hash and sorting them",
         ["perl", "-ne", "$c{$_}++ for split; END { print scalar(keys %c), qq(\\n); "
          "for (sort { $c{$b} <=> $c{$a} } keys %c) { $n++ < 3 and print qq($_\\n) } }", str(text)], {}),
        ("sqlite-index", "sqlite3 inserting 20,000 rows into an in-memory table, indexing and querying it",
         ["sqlite3", ":memory:", f".read {work / 'q.sql'}"], {}),
    ]


def summary(heaplab, path):
    proc = subprocess.run([heaplab, "replay", "--json", "--no-shadow", "--backends", "libc", str(path)],
                          capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout)["results"][0]
    threads = set()
    text = subprocess.run([heaplab, "convert", "--to", "text", str(path), "/dev/stdout"], capture_output=True,
                          text=True).stdout
    for line in text.splitlines():
        if " t=" in line:
            threads.add(line.rsplit(" t=", 1)[1].split()[0])
    return result["ops"], result["peak_live_bytes"], max(1, len(threads))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heaplab", default=str(ROOT / "build/heaplab"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for name, what, command, env in programs(work):
            if not shutil.which(command[0]):
                print(f"traces: {command[0]} is not installed: {name} skipped", file=sys.stderr)
                continue
            raw = work / f"{name}.trace"
            subprocess.run([args.heaplab, "record", "-o", str(raw), "--", *command], env=dict(os.environ, **env),
                           check=True, capture_output=True, cwd=work)
            images = sorted(work.glob(f"{name}.trace*"), key=lambda p: p.stat().st_size)
            biggest = images[-1]
            target = OUT / f"{name}.trace.zst"
            subprocess.run([args.heaplab, "convert", "--to", "text", str(biggest), str(target)], check=True,
                           capture_output=True)
            ops, peak, threads = summary(args.heaplab, target)
            shown = " ".join(c if " " not in c and len(c) < 60 else "'...'" for c in command)
            rows.append((target.name, what, shown, ops, peak, threads, target.stat().st_size))
            print(f"traces: {target.name}: {ops} operations, peak live {peak} bytes, {threads} threads, "
                  f"{target.stat().st_size} bytes", file=sys.stderr)
    lines = ["# Real traces", "",
             "Recorded by `make traces` (`scripts/make_traces.py`) with `heaplab record` on Debian 12, stored",
             "zstd-compressed (every command reads them as they are). `make run` replays them with the",
             "shipped synthetic traces on every backend.", "",
             "| file | program | operations | peak live bytes | threads | bytes |", "|---|---|---|---|---|---|"]
    for name, what, shown, ops, peak, threads, size in rows:
        lines.append(f"| `{name}` | {what}: `{shown}` | {ops} | {peak} | {threads} | {size} |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
