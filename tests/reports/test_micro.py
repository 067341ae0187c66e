"""The micro-benchmarks in the report (reports/heaplab_report/micro.py, `render --micro`):
Google Benchmark's JSON folded into the results document's "micro" section (a case's
median over its repetitions, in ns whatever its time_unit), the Micro-benchmarks table
(one row per family, one column per target, each reference backend over the fastest raw
peer), kept when the document is rendered again, refused with exit status 2 when the
file is not such a document, and valid against the schema. bench/bench_quick.py reads
through the same module. The hand-made document below has figures chosen so every
expected cell is known; tests/data/reports/bench-micro.json is a real bench-micro run
(pair/16 and replace/10k, 3 repetitions)."""
import copy
import importlib.util
import json
import statistics

import jsonschema
import pytest

from conftest import ROOT
from .test_report import SCHEMA, Tables, cli, document, markdown_table, result, write  # puts reports/ on sys.path
from heaplab_report import micro, table  # noqa: E402

REAL = ROOT / "tests" / "data" / "reports" / "bench-micro.json"
V2 = ROOT / "tests" / "data" / "reports" / "v2-results.json"
HEADING = "## Micro-benchmarks"


# --- a hand-made Google Benchmark document ---------------------------------------------

def entry(name, cpu, unit="ns", aggregate=None, reps=3, error=None):
    """A Google Benchmark entry of case NAME: a run, or the aggregate named AGGREGATE."""
    e = {"name": f"{name}_{aggregate}" if aggregate else name, "run_name": name,
         "run_type": "aggregate" if aggregate else "iteration", "repetitions": reps, "threads": 1,
         "iterations": 1000, "real_time": cpu * 1.5, "cpu_time": cpu, "time_unit": unit}
    if aggregate:
        e["aggregate_name"] = aggregate
    if error:
        e.update(error_occurred=True, error_message=error, iterations=0, real_time=0, cpu_time=0)
    return e


def repeated(name, runs, unit="ns"):
    """The runs of case NAME and the aggregates Google Benchmark adds (mean, median, stddev)."""
    return ([entry(name, r, unit) for r in runs]
            + [entry(name, statistics.mean(runs), unit, "mean"), entry(name, statistics.median(runs), unit, "median"),
               entry(name, statistics.stdev(runs), unit, "stddev")])


GUARD_ERROR = "the live set stopped at 8182 of 10000 blocks: CAPACITY"
HAND = {
    "context": {"date": "2026-01-02T03:04:05+00:00", "host_name": "bench-box", "executable": "build/bench-micro",
                "num_cpus": 8, "mhz_per_cpu": 3000, "cpu_scaling_enabled": False, "caches": [],
                "load_avg": [0.1, 0.2, 0.3], "library_build_type": "release",
                "skipped:tcmalloc": "create failed (UNSUPPORTED)",
                "skipped:raw:tcmalloc": "cannot load libtcmalloc_minimal.so.4"},
    "benchmarks": (
        repeated("pair/16/bins", [10.0, 30.0, 11.0])            # median 11 (mean 17, first 10, last 11)
        + repeated("pair/16/arena", [0.004, 0.002, 0.003], "us")  # median 3 ns
        + [entry("pair/16/guard", 0, error=GUARD_ERROR) for _ in range(3)]
        + repeated("pair/16/libc", [12.0, 12.0, 12.0])
        + repeated("pair/16/raw:libc", [8.0, 9.0, 7.0])
        + repeated("pair/16/raw:mimalloc", [5.0, 6.0, 4.0])      # the fastest raw peer: 5
        # --benchmark_report_aggregates_only: the aggregates alone
        + [entry("pair/32/bins", 99.0, aggregate="mean"), entry("pair/32/bins", 20.0, aggregate="median")]
        + [entry("pair/32/raw:libc", 6.0, reps=1)]               # one run, no repetitions
        + repeated("scope/64/bins", [2.0, 2.5, 1.5], "us")       # 2000 ns
        + repeated("scope/64/raw:libc", [500.0, 400.0, 600.0])
    ),
}


@pytest.fixture
def hand(tmp_path):
    return write(tmp_path / "hand.json", HAND)


@pytest.fixture
def results_doc(tmp_path):
    return write(tmp_path / "results.json", document([result("bins", "traces/a.trace", 1e6),
                                                      result("libc", "traces/a.trace", 2e6)]))


def cases(section):
    return {c["name"]: c for c in section["cases"]}


# --- the fold ---------------------------------------------------------------------------

def test_fold_takes_medians_converts_units_and_keeps_errors(hand):
    section = micro.fold(hand)
    assert section["file"] == str(hand)
    assert section["context"] == {"date": "2026-01-02T03:04:05+00:00", "host_name": "bench-box", "num_cpus": 8,
                                  "mhz_per_cpu": 3000, "library_build_type": "release",
                                  "skipped": {"tcmalloc": "create failed (UNSUPPORTED)",
                                              "raw:tcmalloc": "cannot load libtcmalloc_minimal.so.4"}}
    got = cases(section)
    assert list(got) == ["pair/16/bins", "pair/16/arena", "pair/16/guard", "pair/16/libc", "pair/16/raw:libc",
                         "pair/16/raw:mimalloc", "pair/32/bins", "pair/32/raw:libc", "scope/64/bins",
                         "scope/64/raw:libc"]
    assert got["pair/16/bins"] == {"name": "pair/16/bins", "family": "pair/16", "target": "bins", "cpu_ns": 11.0,
                                   "real_ns": 16.5, "repetitions": 3}
    assert got["pair/16/arena"]["cpu_ns"] == pytest.approx(3.0)          # 0.003 us
    assert got["scope/64/bins"]["cpu_ns"] == pytest.approx(2000.0)       # 2 us
    assert got["scope/64/bins"]["real_ns"] == pytest.approx(3000.0)
    assert got["pair/32/bins"]["cpu_ns"] == 20.0 and got["pair/32/bins"]["repetitions"] == 3  # aggregates only
    assert got["pair/32/raw:libc"]["cpu_ns"] == 6.0 and got["pair/32/raw:libc"]["repetitions"] == 1
    assert got["pair/16/guard"] == {"name": "pair/16/guard", "family": "pair/16", "target": "guard", "cpu_ns": None,
                                    "real_ns": None, "repetitions": 3, "error_message": GUARD_ERROR}
    assert all("error_message" not in c for n, c in got.items() if n != "pair/16/guard")


def test_the_median_aggregate_is_the_figure_when_there_is_one():
    """Google Benchmark's median aggregate over the median this module would take of the runs."""
    doc = {"benchmarks": [entry("pair/16/bins", 10.0), entry("pair/16/bins", 12.0), entry("pair/16/bins", 14.0),
                          entry("pair/16/bins", 12.5, aggregate="median"), entry("pair/16/bins", 50.0,
                                                                                 aggregate="mean")]}
    assert micro.load_results(doc)["pair/16/bins"].ns == 12.5
    doc["benchmarks"] = doc["benchmarks"][:3]  # without aggregates: the median of the runs
    assert micro.load_results(doc)["pair/16/bins"].ns == 12.0


def test_fold_of_a_real_run_takes_each_cases_median_aggregate():
    raw = json.loads(REAL.read_text())
    median = {e["run_name"]: e for e in raw["benchmarks"] if e.get("aggregate_name") == "median"}
    errors = {e["run_name"]: e["error_message"] for e in raw["benchmarks"] if e.get("error_occurred")}
    section = micro.fold(REAL)
    got = cases(section)
    assert len(got) == 26 and set(got) == set(median) | set(errors)
    assert {c["family"] for c in got.values()} == {"pair/16", "replace/10k"}
    for name, e in median.items():
        assert e["time_unit"] == "ns" and e["repetitions"] == 3
        assert got[name]["cpu_ns"] == e["cpu_time"] and got[name]["real_ns"] == e["real_time"]
        assert got[name]["repetitions"] == 3 and got[name]["target"] == name.split("/")[-1]
    assert errors == {"replace/10k/guard": "the live set stopped at 8182 of 10000 blocks: CAPACITY"}
    assert got["replace/10k/guard"]["cpu_ns"] is None
    context = raw["context"]
    assert section["context"] == {"date": context["date"], "host_name": context["host_name"],
                                  "num_cpus": context["num_cpus"], "mhz_per_cpu": context["mhz_per_cpu"],
                                  "library_build_type": context["library_build_type"], "skipped": {}}


# --- the table ----------------------------------------------------------------------------

HAND_HEADERS = ["Family", "bins", "arena", "guard", "libc", "raw:libc", "raw:mimalloc", "fastest raw",
                "bins / fastest raw", "arena / fastest raw", "guard / fastest raw"]
HAND_ROWS = [
    ["pair/16", "11.00", "3.00", "skipped", "12.00", "8.00", "5.00", "raw:mimalloc", "2.20x", "0.60x", "-"],
    ["pair/32", "20.00", "-", "-", "-", "6.00", "-", "raw:libc", "3.33x", "-", "-"],
    ["scope/64", "2000.0", "-", "-", "-", "500.0", "-", "raw:libc", "4.00x", "-", "-"],
]


def test_the_table_has_a_row_a_family_a_column_a_target_and_the_ratios(hand):
    t = table.micro_benchmarks(micro.fold(hand))
    assert t.headers == HAND_HEADERS
    assert t.rows == HAND_ROWS
    not_run = table.micro_not_run(micro.fold(hand))
    assert not_run.rows == [["pair/16/guard", GUARD_ERROR],
                            ["tcmalloc (every family)", "create failed (UNSUPPORTED)"],
                            ["raw:tcmalloc (every family)", "cannot load libtcmalloc_minimal.so.4"]]


def test_bench_quick_reads_and_compares_through_the_same_module():
    spec = importlib.util.spec_from_file_location("bench_quick", ROOT / "bench" / "bench_quick.py")
    quick = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quick)
    for name in ("read_json", "load_results", "skipped_targets", "goal_rows", "families"):
        assert getattr(quick, name) is getattr(micro, name), name
    rows = {(r.family, r.backend.target): r for r in quick.goal_rows(quick.load_results(HAND))}
    bins = rows[("pair/16", "bins")]
    assert bins.raw.target == "raw:mimalloc" and bins.ratio(bins.raw) == pytest.approx(2.2)


# --- render --micro ---------------------------------------------------------------------

def test_render_folds_the_file_into_the_document_and_shows_the_table(hand, results_doc, tmp_path):
    out = tmp_path / "out"
    proc = cli("render", "--out", out, "--micro", hand, results_doc)
    assert proc.returncode == 0, proc.stderr
    written = json.loads((out / "heaplab-results.json").read_text())
    assert written == {**json.loads(results_doc.read_text()), "micro": micro.fold(hand)}
    jsonschema.validate(written, SCHEMA)
    assert json.loads((out / "results.json").read_text())["micro"] == written["micro"]
    md = (out / "report.md").read_text()
    assert markdown_table(md, HEADING) == [HAND_HEADERS] + HAND_ROWS
    section = md.split(HEADING + "\n", 1)[1]
    assert "Google Benchmark's figures, from " + str(hand) in section
    assert "measured on bench-box (8 CPUs at 3000 MHz) on 2026-01-02T03:04:05+00:00" in section
    assert "not the machine the traces were measured on (box)" in section
    assert "the median of each case's repetitions (1 to 3)" in section
    assert "debug" not in section.split("| Family |")[0]  # a release build of the library: no warning
    html_tables = Tables((out / "index.html").read_text()).tables
    assert [HAND_HEADERS] + HAND_ROWS in html_tables
    assert [["Not measured", "why"], ["pair/16/guard", GUARD_ERROR],
            ["tcmalloc (every family)", "create failed (UNSUPPORTED)"],
            ["raw:tcmalloc (every family)", "cannot load libtcmalloc_minimal.so.4"]] in html_tables


def test_a_debug_library_build_is_flagged(results_doc, tmp_path):
    out = tmp_path / "out"
    assert cli("render", "--out", out, "--micro", REAL, results_doc).returncode == 0
    md = (out / "report.md").read_text()
    rows = markdown_table(md, HEADING)
    assert [r[0] for r in rows[1:]] == ["pair/16", "replace/10k"] and len(rows[0]) == 1 + 13 + 1 + 5
    assert 'Warning: Google Benchmark reports a debug build of its library (library_build_type "debug")' in md
    assert "the median of 3 repetitions" in md


def test_a_render_without_micro_keeps_the_documents_and_has_no_section(hand, results_doc, tmp_path):
    first = tmp_path / "first"
    assert cli("render", "--out", first, "--micro", hand, results_doc).returncode == 0
    again = tmp_path / "again"
    proc = cli("render", "--out", again, first / "heaplab-results.json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((again / "results.json").read_text())["micro"] == micro.fold(hand)
    assert markdown_table((again / "report.md").read_text(), HEADING) == [HAND_HEADERS] + HAND_ROWS
    plain = tmp_path / "plain"
    assert cli("render", "--out", plain, results_doc).returncode == 0
    assert HEADING not in (plain / "report.md").read_text() and not (plain / "heaplab-results.json").exists()
    # several documents: the micro-benchmarks of the one that has them
    merged = tmp_path / "merged"
    assert cli("render", "--out", merged, results_doc, first / "heaplab-results.json").returncode == 0
    assert json.loads((merged / "results.json").read_text())["micro"] == micro.fold(hand)


def test_micro_into_the_document_in_place(hand, results_doc, tmp_path):
    """report --micro after measuring: the renderer folds into DIR/heaplab-results.json itself."""
    out = tmp_path / "out"
    out.mkdir()
    document_path = out / "heaplab-results.json"
    document_path.write_text(results_doc.read_text())
    assert cli("render", "--out", out, "--micro", hand, document_path).returncode == 0
    assert json.loads(document_path.read_text())["micro"]["cases"][0]["name"] == "pair/16/bins"
    assert sorted(p.name for p in out.iterdir()) == ["heaplab-results.json", "index.html", "plots", "report.md",
                                                      "results.json"]


# --- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("content, expected", [
    (None, "no such file"),
    ("{\"benchmarks\": [", "not JSON"),
    ("{\"context\": {}}", "not a Google Benchmark JSON document (no \"benchmarks\" list)"),
    ("[1, 2]", "not a Google Benchmark JSON document (no \"benchmarks\" list)"),
    ("{\"benchmarks\": []}", "no benchmarks in it"),
    (json.dumps({"benchmarks": [entry("pair/16/bins", 1.0, unit="fortnights")]}),
     "benchmarks[0] (pair/16/bins): time_unit 'fortnights' is not one of ns, us, ms, s"),
    (json.dumps({"benchmarks": [entry("BM_memcpy", 1.0)]}), "'BM_memcpy' is not a micro-benchmark case"),
])
def test_bad_micro_input_exits_2_naming_the_file_and_writes_nothing(results_doc, tmp_path, content, expected):
    bad = tmp_path / "micro.json"
    if content is not None:
        bad.write_text(content)
    for args in (("render", "--out", tmp_path / "out", "--micro", bad, results_doc), ("micro", bad)):
        proc = cli(*args)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"heaplab_report: {bad}: ") and expected in lines[0], lines
        assert not (tmp_path / "out").exists()


def test_a_results_document_is_not_a_micro_file(results_doc, tmp_path):
    proc = cli("render", "--out", tmp_path / "out", "--micro", results_doc, results_doc)
    assert proc.returncode == 2 and f"{results_doc}: not a Google Benchmark JSON document" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_micro_goes_into_a_current_document_only(hand, tmp_path):
    proc = cli("render", "--out", tmp_path / "out", "--micro", hand, V2)
    assert proc.returncode == 2 and "schema_version 2" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


# --- the schema -------------------------------------------------------------------------

def test_the_schema_describes_the_section_precisely(hand):
    doc = document([result("bins", "t", 1e6)])
    doc["micro"] = micro.fold(hand)
    jsonschema.validate(doc, SCHEMA)
    real = document([result("bins", "t", 1e6)])
    real["micro"] = micro.fold(REAL)
    jsonschema.validate(real, SCHEMA)

    def broken(change):
        bad = copy.deepcopy(doc)
        change(bad["micro"])
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SCHEMA)
    broken(lambda m: m["cases"][2].update(cpu_ns=1.0))       # an error case with a time
    broken(lambda m: m["cases"][0].update(cpu_ns=None))      # a case that ran without one
    broken(lambda m: m["cases"][0].pop("repetitions"))
    broken(lambda m: m["cases"][0].update(ns_per_op=1.0))    # a key the schema does not know
    broken(lambda m: m["cases"][0].update(target="a/b"))
    broken(lambda m: m["context"].update(num_cpus="8"))
    broken(lambda m: m["context"]["skipped"].update(libc=1))
    broken(lambda m: m.pop("file"))
    old = json.loads((ROOT / "reports" / "schema" / "results-3.schema.json").read_text())
    assert "micro" not in old["properties"]
