"""Partial documents (an interrupted `heaplab report`, reports/heaplab_report/partial.py)
as the package reads, merges, renders and compares them, and the report's files written
whole or not at all, named as the driver's final folder (outdir.py, --renamed-to)."""
import copy
import json

import jsonschema
import pytest

from .test_report import SCHEMA, cli, document, result, write  # it puts reports/ on sys.path
from .test_merge import shard
from heaplab_report import load, merge, partial  # noqa: E402
from heaplab_report.errors import WriteError  # noqa: E402
from heaplab_report.outdir import OutDir  # noqa: E402

NOT_MEASURED = [{"trace": "traces/b.trace", "backend": "bins"}, {"trace": "traces/b.trace", "backend": "libc"}]


def partial_document():
    doc = document([result("bins", "traces/a.trace", 1e6), result("libc", "traces/a.trace", 2e6)])
    doc["partial"] = {"reason": "interrupted by SIGINT", "not_measured": copy.deepcopy(NOT_MEASURED)}
    jsonschema.validate(doc, SCHEMA)
    return doc


def test_the_schema_describes_the_partial_section():
    doc = partial_document()
    doc["partial"]["not_measured"].append({"trace": "t"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)
    doc = partial_document()
    del doc["partial"]["reason"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_a_partial_document_renders_as_a_partial_report(tmp_path):
    proc = cli("render", "--out", tmp_path / "out", write(tmp_path / "r.json", partial_document()))
    assert proc.returncode == 0, proc.stderr
    notice = ("Partial report: interrupted by SIGINT (2 pairs not measured: traces/b.trace on bins, traces/b.trace "
              "on libc). Every figure shown was measured whole; the pairs not measured have no row.")
    md = (tmp_path / "out" / "report.md").read_text()
    assert md.startswith(f"# heaplab report (partial)\n\n{notice}\n")
    html = (tmp_path / "out" / "index.html").read_text()
    assert "<title>heaplab report (partial)</title>" in html and f"<p>{notice}</p>" in html
    whole = cli("render", "--out", tmp_path / "whole", write(tmp_path / "w.json", document([result("bins", "t", 1)])))
    md = (tmp_path / "whole" / "report.md").read_text()
    assert whole.returncode == 0 and md.startswith("# heaplab report\n") and "Partial report" not in md


def test_merged_documents_keep_what_was_not_measured():
    doc = load.merge([("a.json", partial_document()), ("b.json", document([result("bins", "t", 1)]))])
    jsonschema.validate(doc, SCHEMA)
    assert doc["partial"] == {"reason": "interrupted by SIGINT", "not_measured": NOT_MEASURED}
    shards = [("s1.json", shard(1, ["traces/a.trace"], count=2, every=["traces/a.trace", "traces/b.trace"])),
              ("s2.json", shard(2, [], count=2, every=["traces/a.trace", "traces/b.trace"]))]
    shards[1][1]["shard"]["traces"] = ["traces/b.trace"]
    shards[1][1]["partial"] = {"reason": "interrupted by SIGTERM", "not_measured": copy.deepcopy(NOT_MEASURED)}
    merged = merge.merge(shards)
    jsonschema.validate(merged, SCHEMA)
    assert merged["partial"] == shards[1][1]["partial"]
    assert "partial" not in load.merge([("a.json", document([result("bins", "t", 1)]))] * 2)
    assert partial.combined([partial_document(), shards[1][1]])["reason"] == (
        "interrupted by SIGINT; interrupted by SIGTERM")


def test_compare_says_which_side_is_partial(tmp_path):
    old = write(tmp_path / "old.json", document([result("bins", "traces/a.trace", 1e6)]))
    new = write(tmp_path / "new.json", partial_document())
    proc = cli("compare", old, new, "--out", tmp_path / "cmp")
    assert proc.returncode == 0, proc.stderr
    assert f"{new} is partial: interrupted by SIGINT (2 pairs not measured" in proc.stdout
    assert f"{new} is partial" in (tmp_path / "cmp" / "compare.md").read_text()


# --- files whole or not at all --------------------------------------------------------

def test_a_file_that_cannot_be_written_is_named_and_not_left_cut(small_disk):
    disk = small_disk.full(16)
    out = OutDir(disk / "report")
    out.write("small.txt", "fits\n")
    with pytest.raises(WriteError) as e:
        out.write("plots/big.png", b"x" * 64 * 1024)
    assert str(e.value) == f"{disk}/report/plots/big.png: cannot write: No space left on device (nothing written)"
    assert sorted(p.name for p in (disk / "report").rglob("*")) == ["plots", "small.txt"]  # no temporary file


def test_render_onto_a_full_disk_names_the_file_it_could_not_write(small_disk, tmp_path):
    """As the driver runs it: --out is the folder being built, named in messages and pages
    as --renamed-to's."""
    disk = small_disk.full(16)
    built, final = disk / ".report.tmp-1-0", disk / "report"
    proc = cli("render", "--out", built, "--renamed-to", final, write(tmp_path / "r.json", partial_document()))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"heaplab_report: {final}/plots/"), lines
    assert lines[0].endswith(f": cannot write: No space left on device (nothing written to {final})")
    assert not any(p.name.startswith(".") for p in built.rglob("*"))  # the driver removes the folder itself


def test_the_pages_name_the_final_folder(tmp_path):
    built, final = tmp_path / ".report.tmp-1-0", tmp_path / "report"
    reproducer = built / "findings" / "a.bins.OVERLAP.trace"
    reproducer.parent.mkdir(parents=True)
    reproducer.write_text("heaplab-trace 1\nend\n")
    doc = partial_document()
    doc["results"][0].update(divergences=1, finding={"rule": "OVERLAP", "index": 3, "line": 5, "message": "m",
                                                     "reproducer": str(final / "findings" / reproducer.name)})
    path = write(built / "heaplab-results.json", doc)
    proc = cli("render", "--out", built, "--renamed-to", final, path)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr  # the driver says report:
    md = (built / "report.md").read_text()
    assert f"From {final}/heaplab-results.json: 2 results" in md and str(built) not in md
    assert f"[{final}/findings/{reproducer.name}](<findings/{reproducer.name}>)" in md  # not "(missing)"
    assert json.loads((built / "results.json").read_text())["partial"] == doc["partial"]
