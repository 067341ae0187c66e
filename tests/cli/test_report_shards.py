"""`heaplab report --shard I/N` and `--merge`, end to end: a run split in three shards
merges into the report of the unsharded run (the same rows, the same deterministic
figures), the split depends on the set of traces only, bad --shard values and merges of
different builds are refused, an empty shard is a valid document; and the report reads
the document versions it knows (a saved version 2 document) and refuses others."""
import hashlib
import json
import shutil
import subprocess

import jsonschema
import pytest

from conftest import ROOT

SCHEMA = json.loads((ROOT / "reports" / "schema" / "results.schema.json").read_text())
V2 = ROOT / "tests" / "data" / "reports" / "v2-results.json"
BACKENDS = "bins,arena,libc"
REFERENCE = {"bins", "arena"}  # their footprints are the bytes they committed: the same on every run
# The shipped synthetic traces and one small real one, in path order.
TRACES = sorted([p.relative_to(ROOT).as_posix() for p in (ROOT / "traces").glob("*.trace")]
                + ["traces/real/perl-words.trace.zst"])
# What a run must measure the same however the traces are split.
SAME = ("ops", "sent", "skipped", "failures", "divergences", "detections", "peak_live_bytes", "peak_live_blocks",
        "threads", "trace_threads")
SAME_ON_REFERENCE = ("peak_footprint_bytes", "final_footprint_bytes")
FRAGMENTATION = ("time_average", "at_peak_live", "at_peak_footprint", "peak_to_peak", "internal_average",
                 "internal_at_peak_live", "peak_live_bytes", "peak_footprint_bytes")


def heaplab_command(*args):
    return [str(ROOT / "build" / "heaplab"), "report", *map(str, args)]


def document(path):
    doc = json.loads(path.read_text())
    jsonschema.validate(doc, SCHEMA)
    return doc


def summary_rows(report_md):
    """The Summary table of a report.md: its header and rows as lists of cells."""
    section = report_md.split("## Summary\n", 1)[1]
    table = [b for b in section.split("\n\n") if b.strip().startswith("|")][0].strip().splitlines()
    return [[c.strip() for c in line.split("|")[1:-1]] for line in table[:1] + table[2:]]


@pytest.fixture(scope="module")
def split_run(tmp_path_factory):
    """Runs the traces whole and in three shards (in parallel, each given the traces in
    another order), and merges the shards; returns (tmp dir, whole doc, shard docs,
    merged doc, merge's CompletedProcess)."""
    tmp = tmp_path_factory.mktemp("shards")
    whole = subprocess.run(heaplab_command("--backends", BACKENDS, "--out", tmp / "whole", *TRACES), cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr
    orders = [TRACES, TRACES[::-1], TRACES[1:] + TRACES[:1]]
    procs = [subprocess.Popen(heaplab_command("-q", "--shard", f"{i}/3", "--backends", BACKENDS, "--out",
                                              tmp / f"shard-{i}", *orders[i - 1]),
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in (1, 2, 3)]
    for i, proc in enumerate(procs, 1):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert f"heaplab report: shard {i}/3 runs " in err and f" of the {len(TRACES)} traces" in err
    shards = [document(tmp / f"shard-{i}" / "heaplab-results.json") for i in (1, 2, 3)]
    merged = subprocess.run(heaplab_command("--merge", *[tmp / f"shard-{i}" / "heaplab-results.json"
                                                         for i in (3, 1, 2)], "--out", tmp / "merged"),
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    doc = document(tmp / "merged" / "heaplab-results.json") if merged.returncode == 0 else None
    return tmp, document(tmp / "whole" / "heaplab-results.json"), shards, doc, merged


def test_the_shards_split_the_traces_by_size_whatever_their_order(split_run):
    _, _, shards, _, merged = split_run
    assert merged.returncode == 0, merged.stderr
    for i, doc in enumerate(shards, 1):
        s = doc["shard"]
        assert (s["index"], s["count"], s["all_traces"]) == (i, 3, TRACES)
        assert s["traces"] == sorted(s["traces"]) and s["traces"] == list(dict.fromkeys(r["trace"] for r in
                                                                                      doc["results"]))
        for r in doc["results"]:  # every trace with all its backends
            assert [x["backend"] for x in doc["results"] if x["trace"] == r["trace"]] == BACKENDS.split(",")
    taken = [t for doc in shards for t in doc["shard"]["traces"]]
    assert sorted(taken) == TRACES  # each trace in exactly one shard
    # the real trace outweighs the eight small ones together: it has shard 1 to itself,
    # and the small ones are dealt to the other two by size
    assert shards[0]["shard"]["traces"] == ["traces/real/perl-words.trace.zst"]
    assert abs(len(shards[1]["shard"]["traces"]) - len(shards[2]["shard"]["traces"])) <= 1


def test_three_shards_merge_into_the_whole_run(split_run):
    tmp, whole, shards, merged, proc = split_run
    assert proc.returncode == 0, proc.stderr
    assert (f"merged: 3 documents (shards 1-3 of 3): {len(TRACES)} traces x 3 backends measured on 1 machine"
            in proc.stdout)
    assert f"report: {tmp / 'merged' / 'index.html'}" in proc.stdout
    assert merged["build"] == whole["build"]  # one binary: one build.id
    assert [s["shard"]["index"] for s in merged["sources"]] == [1, 2, 3]
    key = [(r["trace"], r["backend"]) for r in whole["results"]]
    assert [(r["trace"], r["backend"]) for r in merged["results"]] == key  # same rows, in path order
    for a, b in zip(whole["results"], merged["results"]):
        assert {k: a.get(k) for k in SAME} == {k: b.get(k) for k in SAME}, a["trace"]
        assert (a.get("finding") or {}).get("rule") == (b.get("finding") or {}).get("rule")
        if a["backend"] in REFERENCE:
            assert {k: a[k] for k in SAME_ON_REFERENCE} == {k: b[k] for k in SAME_ON_REFERENCE}, a["trace"]
            for k in FRAGMENTATION:
                assert a["fragmentation"][k] == pytest.approx(b["fragmentation"][k]), (a["trace"], k)
    # the rendered reports: the same rows, and the same deterministic columns
    rows_whole = summary_rows((tmp / "whole" / "report.md").read_text())
    rows_merged = summary_rows((tmp / "merged" / "report.md").read_text())
    header = rows_whole[0]
    assert rows_merged[0] == header and len(rows_merged) == len(rows_whole) == 1 + 3 * len(TRACES)
    columns = ["Trace", "Backend", "Runs", "skipped ops", "failed calls", "divergences"]
    for a, b in zip(rows_whole[1:], rows_merged[1:]):
        pick = [header.index(c) for c in columns + (["peak footprint bytes"] if a[1] in REFERENCE else [])]
        assert [a[i] for i in pick] == [b[i] for i in pick]
    md = (tmp / "merged" / "report.md").read_text()
    assert "| File | shard | host |" in md and "## Where each trace ran" not in md  # one machine


def test_the_merged_document_compares_and_renders_again(split_run, heaplab_release):
    tmp, _, _, _, proc = split_run
    assert proc.returncode == 0, proc.stderr
    merged = tmp / "merged" / "heaplab-results.json"
    same = heaplab_release("report", "--compare", merged, merged)
    assert same.returncode == 0 and f"{3 * len(TRACES)} pairs compared: 0 changed" in same.stdout, same.stderr
    again = heaplab_release("report", "--from", merged, "--out", tmp / "again")
    assert again.returncode == 0, again.stderr


def test_the_report_names_the_machine_of_each_trace(split_run, heaplab_release):
    tmp, _, _, _, _ = split_run
    moved = []
    for i in (1, 2, 3):
        doc = json.loads((tmp / f"shard-{i}" / "heaplab-results.json").read_text())
        if i == 2:
            doc["machine"].update(hostname="other-box", cpu_model="Other CPU")
        path = tmp / f"moved-{i}.json"
        path.write_text(json.dumps(doc))
        moved.append(path)
    proc = heaplab_release("report", "--merge", *moved, "--out", tmp / "two-machines")
    assert proc.returncode == 0 and "measured on 2 machines" in proc.stdout, proc.stdout + proc.stderr
    md = (tmp / "two-machines" / "report.md").read_text()
    section = md.split("## Where each trace ran\n", 1)[1].split("\n## ", 1)[0]
    placed = {row[0]: row for row in (
        [c.strip() for c in line.split("|")[1:-1]] for line in section.splitlines() if line.startswith("| traces/"))}
    docs = [json.loads(p.read_text()) for p in moved]
    shard_of = {t: d["shard"]["index"] for d in docs for t in d["shard"]["traces"]}
    shard_two = docs[1]["shard"]["traces"]
    assert set(placed) == set(TRACES)
    for trace, row in placed.items():
        assert row[1] == ("other-box" if trace in shard_two else docs[0]["machine"]["hostname"])
        assert row[3] == f"{shard_of[trace]}/3"
    assert f"## Trace {shard_two[0]}\n\nMeasured on other-box (Other CPU, " in md
    assert "| hosts (2 machines) |" in md


def test_merge_refuses_a_shard_twice_or_missing(split_run, heaplab_release):
    tmp, _, _, _, _ = split_run
    one, two = (tmp / f"shard-{i}" / "heaplab-results.json" for i in (1, 2))
    copy = tmp / "copy-of-1.json"
    shutil.copy(one, copy)
    proc = heaplab_release("report", "--merge", one, copy, two, "--out", tmp / "twice")
    assert proc.returncode == 2 and f"{one} and {copy} are both shard 1/3" in proc.stderr, proc.stderr
    proc = heaplab_release("report", "--merge", one, two, "--out", tmp / "missing")
    assert proc.returncode == 2 and "shard 3/3 missing" in proc.stderr, proc.stderr
    assert not (tmp / "twice").exists() and not (tmp / "missing").exists()
    proc = heaplab_release("report", "--merge", one, "--out", tmp / "shard-1")
    assert proc.returncode == 2 and "would overwrite" in proc.stderr, proc.stderr


@pytest.mark.parametrize("value, says", [
    ("0/3", "there is no shard 0 of 3"), ("4/3", "there is no shard 4 of 3"), ("x/y", "is not I/N"),
    ("1/0", "N, the number of shards, goes from 1"), ("1/", "is not I/N"), ("2/3/4", "is not I/N"),
])
def test_bad_shard_values_are_bad_usage(heaplab_release, tmp_path, value, says):
    proc = heaplab_release("report", "--shard", value, "--backends", "bins", "--out", tmp_path / "out",
                           "traces/basic.trace")
    assert proc.returncode == 2
    assert f"heaplab report: --shard '{value}'" in proc.stderr and says in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_shard_and_merge_usage(heaplab_release, tmp_path):
    def run(*args):
        return heaplab_release("report", *args)
    proc = run("--shard", "1/2", "--from", V2, "--out", tmp_path / "x")
    assert proc.returncode == 2 and "--shard goes with neither --compare nor --from" in proc.stderr
    assert run("--merge", V2).returncode == 2  # no --out
    assert run("--merge", "--out", tmp_path / "x").returncode == 2  # no documents
    assert run("--merge", "--shard", "1/2", V2, "--out", tmp_path / "x").returncode == 2
    assert "--shard I/N" in run("--help").stdout and "--merge" in run("--help").stdout


def test_an_empty_shard_is_a_valid_document_and_merges(heaplab_release, tmp_path):
    traces = ["traces/scopes.trace", "traces/basic.trace"]
    docs = []
    for i in (1, 2, 3):
        proc = heaplab_release("report", "-q", "--shard", f"{i}/3", "--backends", "bins", "--out",
                               tmp_path / f"s{i}", *traces)
        assert proc.returncode == 0, proc.stderr
        docs.append(tmp_path / f"s{i}" / "heaplab-results.json")
    empty = document(docs[2])
    assert empty["results"] == [] and empty["shard"] == {"index": 3, "count": 3, "traces": [],
                                                         "all_traces": sorted(traces)}
    assert "Shard 3/3: 0 of the 2 traces" in (tmp_path / "s3" / "report.md").read_text()
    proc = heaplab_release("report", "--merge", *docs, "--out", tmp_path / "merged")
    assert proc.returncode == 0, proc.stderr
    merged = document(tmp_path / "merged" / "heaplab-results.json")
    assert [r["trace"] for r in merged["results"]] == sorted(traces)
    assert [s["traces"] for s in merged["sources"]] == [["traces/basic.trace"], ["traces/scopes.trace"], []]


def test_merging_documents_of_different_builds_is_refused(heaplab, heaplab_release, tmp_path):
    traces = ["traces/basic.trace", "traces/scopes.trace"]
    for i, run in ((1, heaplab_release), (2, heaplab)):  # the release build and the sanitized one
        proc = run("report", "-q", "--shard", f"{i}/2", "--backends", "bins", "--out", tmp_path / f"s{i}", *traces)
        assert proc.returncode == 0, proc.stderr
    one, two = (tmp_path / f"s{i}" / "heaplab-results.json" for i in (1, 2))
    ids = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (heaplab_release.path, heaplab.path)]
    assert [json.loads(p.read_text())["build"]["id"] for p in (one, two)] == ids
    proc = heaplab_release("report", "--merge", one, two, "--out", tmp_path / "merged")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"cannot merge {one} (build {ids[0][:12]}: heaplab " in proc.stderr
    assert f"and {two} (build {ids[1][:12]}: heaplab " in proc.stderr
    assert "from one heaplab build" in proc.stderr and not (tmp_path / "merged").exists()


def test_build_id_is_the_binary_sha256(heaplab_release):
    proc = heaplab_release("replay", "--json", "--backends", "bins", "traces/basic.trace")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["build"]["id"] == hashlib.sha256(heaplab_release.path.read_bytes()).hexdigest()


# --- versions -------------------------------------------------------------------------

def test_a_version_2_document_still_renders_and_compares(heaplab_release, tmp_path):
    old = json.loads(V2.read_text())
    assert old["schema_version"] == 2 and "id" not in old["build"]
    proc = heaplab_release("report", "--from", V2, "--out", tmp_path / "v2")
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "v2" / "report.md").read_text()
    assert "| traces/basic.trace | bins | 1 |" in md and "| build id | - |" in md
    proc = heaplab_release("report", "--compare", V2, V2)
    assert proc.returncode == 0 and "2 pairs compared: 0 changed" in proc.stdout, proc.stdout + proc.stderr
    new = heaplab_release("report", "-q", "--backends", "bins,libc", "--out", tmp_path / "v3",
                          "traces/basic.trace")
    assert new.returncode == 0, new.stderr
    proc = heaplab_release("report", "--compare", V2, tmp_path / "v3" / "heaplab-results.json")
    assert proc.returncode in (0, 1) and "2 pairs compared" in proc.stdout, proc.stdout + proc.stderr
    assert "build.id differs: " in proc.stdout  # v2 has none: read as absent


@pytest.mark.parametrize("how", ["from", "compare", "merge"])
def test_unknown_versions_are_refused_naming_both(heaplab_release, tmp_path, how):
    doc = json.loads(V2.read_text())
    doc["schema_version"] = 7
    future = tmp_path / "future.json"
    future.write_text(json.dumps(doc))
    args = {"from": ("--from", future, "--out", tmp_path / "out"), "compare": ("--compare", V2, future),
            "merge": ("--merge", future, "--out", tmp_path / "out")}[how]
    proc = heaplab_release("report", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    reads = "--merge reads schema_version 3 and 4" if how == "merge" else "this heaplab reads schema_version 2, 3 and 4"
    assert f"{future}: schema_version 7: {reads}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_merge_reads_only_shard_documents(heaplab_release, tmp_path):
    proc = heaplab_release("report", "--merge", V2, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert f"{V2}: schema_version 2: --merge reads schema_version 3 and 4" in proc.stderr
