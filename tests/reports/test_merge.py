"""The report package's merge of shard documents (reports/heaplab_report/merge.py) and its
reading of document versions (load.py), on small documents made here: each refusal
names what is wrong and the files it is wrong in."""
import copy
import json

import jsonschema
import pytest

from conftest import ROOT
from .test_report import SCHEMA, cli, document, result, write  # it puts reports/ on sys.path
from heaplab_report import load, merge  # noqa: E402

V2 = ROOT / "tests" / "data" / "reports" / "v2-results.json"
ALL = ["traces/a.trace", "traces/b.trace", "traces/c.trace"]


def shard(index, traces, count=3, every=ALL, backends=("bins", "libc")):
    doc = document([result(b, t, 1e6) for t in traces for b in backends])
    doc["shard"] = {"index": index, "count": count, "traces": list(traces), "all_traces": list(every)}
    jsonschema.validate(doc, SCHEMA)
    return doc


def split():
    return [("s1.json", shard(1, ["traces/b.trace"])), ("s2.json", shard(2, ["traces/a.trace", "traces/c.trace"])),
            ("s3.json", shard(3, []))]


def test_shards_merge_in_trace_order_with_their_sources():
    doc = merge.merge(split()[::-1])
    jsonschema.validate(doc, SCHEMA)
    assert [(r["trace"], r["backend"]) for r in doc["results"]] == [(t, b) for t in ALL for b in ("bins", "libc")]
    assert [(s["file"], s["shard"]["index"], s["traces"], s["results"]) for s in doc["sources"]] == [
        ("s1.json", 1, ["traces/b.trace"], 2), ("s2.json", 2, ["traces/a.trace", "traces/c.trace"], 4),
        ("s3.json", 3, [], 0)]
    assert "shard" not in doc and doc["build"]["id"] == "ab12" * 16


def refused(named, *expected):
    with pytest.raises(load.InputError) as e:
        merge.merge(named)
    for text in expected:
        assert text in str(e.value), str(e.value)


def test_refuses_different_builds_naming_files_and_builds():
    named = split()
    named[2][1]["build"].update(id="cd34" * 16, flags="-O0")
    refused(named, "cannot merge s1.json (build ab12ab12ab12: heaplab 0.1.0, gcc 12.2.0, flags -O2 -g)",
            "and s3.json (build cd34cd34cd34: heaplab 0.1.0, gcc 12.2.0, flags -O0)", "one heaplab build")


def test_refuses_a_trace_in_two_shards():
    named = split()
    named[2] = ("s3.json", shard(3, ["traces/b.trace"]))
    refused(named, "traces/b.trace is in both s1.json (shard 1/3) and s3.json (shard 3/3)")


def test_refuses_what_is_not_one_split():
    named = split()
    refused(named[:2], "shard 3/3 missing (given: 1/3 s1.json, 2/3 s2.json)", "--from")
    refused(named + [("again.json", shard(3, []))], "s3.json and again.json are both shard 3/3")
    other = split()
    other[2] = ("s3.json", shard(3, [], count=4))
    refused(other, "s1.json is shard 1/3 and s3.json shard 3/4")
    other[2] = ("s3.json", shard(3, [], every=ALL + ["traces/d.trace"]))
    refused(other, "s1.json and s3.json split different sets of traces (3 and 4 traces)")
    plain = split()
    plain[2] = ("plain.json", document([result("bins", "traces/z.trace", 1e6)]))
    refused(plain, "plain.json is not a shard", "s1.json is")
    unrun = split()
    unrun[1] = ("s2.json", shard(2, ["traces/a.trace"]))  # c went nowhere: files of other sizes elsewhere
    refused(unrun, "traces/c.trace of the split ran in no shard")


def test_refuses_a_sanitized_shard_even_of_the_same_id():
    named = split()
    named[1][1]["build"]["sanitized"] = True
    refused(named, "cannot mix", "build.sanitized")


def test_merge_command_writes_the_document_and_the_report(tmp_path):
    paths = [write(tmp_path / name, doc) for name, doc in split()]
    paths[1].write_text(paths[1].read_text().replace('"divergences": 0', '"divergences": 1', 1))
    proc = cli("merge", "--out", tmp_path / "out", "--commit", "abc", *paths)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # a shard diverged
    assert "merged: 3 documents (shards 1-3 of 3): 3 traces x 2 backends measured on 1 machine" in proc.stdout
    doc = json.loads((tmp_path / "out" / "heaplab-results.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    assert (tmp_path / "out" / "index.html").exists()
    assert f"| {paths[1]} | 2/3 | box |" in (tmp_path / "out" / "report.md").read_text()


# --- versions -------------------------------------------------------------------------

def test_reads_version_2_as_version_3_without_the_new_fields():
    doc = load.load(V2)
    assert doc["schema_version"] == 2 and "id" not in doc["build"] and "shard" not in doc
    assert load.READS == (2, 3, 4) and load.CURRENT == 4


def test_a_current_document_needs_a_build_id(tmp_path):
    doc = document([result("bins", "t", 1e6)])
    del doc["build"]["id"]
    proc = cli("render", "--out", tmp_path / "out", write(tmp_path / "r.json", doc))
    assert proc.returncode == 2 and "schema violation at $.build: 'id' is a required property" in proc.stderr


@pytest.mark.parametrize("version", [1, 5, 99])
def test_other_versions_are_refused_naming_both(tmp_path, version):
    doc = copy.deepcopy(document([result("bins", "t", 1e6)]))
    doc["schema_version"] = version
    path = write(tmp_path / "r.json", doc)
    for args in (("render", "--out", tmp_path / "out", path), ("compare", path, path)):
        proc = cli(*args)
        assert proc.returncode == 2
        assert f"{path}: schema_version {version}: this heaplab reads schema_version 2, 3 and 4" in proc.stderr
    proc = cli("merge", "--out", tmp_path / "out", path)
    assert proc.returncode == 2 and f"{path}: schema_version {version}: --merge reads schema_version 3 and 4" in proc.stderr
