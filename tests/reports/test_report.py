"""The report package (reports/heaplab_report): loading and refusing documents, the
rendered report's tables, plots and self-containment, and compare's noise-aware flags.
The documents are made here, small, so that every expected figure is known."""
import base64
import copy
import json
import math
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import matplotlib.image
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "reports"))
from heaplab_report import compare, load, plots, runs  # noqa: E402

SCHEMA = json.loads((ROOT / "reports" / "schema" / "results.schema.json").read_text())
PNG = b"\x89PNG\r\n\x1a\n"
BACKENDS = {"bins": 3.0e6, "arena": 5.0e6, "libc": 4.0e6}  # ops/s on trace a; b is half of it


# --- documents ------------------------------------------------------------------------

def histogram(base):
    """A latency histogram of 100 calls: p50 = base, p90 = 10 base + 9, p99 = max = 100 base + 99."""
    buckets = [[base, base, 50], [2 * base, 2 * base, 30], [10 * base, 10 * base + 9, 15],
               [100 * base, 100 * base + 99, 5]]
    return {"count": 100, "mean_ns": 7.6 * base, "min_ns": base, "p50_ns": base, "p90_ns": 10 * base + 9,
            "p99_ns": 100 * base + 99, "p999_ns": 100 * base + 99, "max_ns": 100 * base + 99, "buckets": buckets}


def latency(base):
    timer = {"source": "rdtsc", "tick_ns": 0.48, "resolution_ns": 10, "overhead_ns": 20, "overhead_min_ns": 20,
             "overhead_p99_ns": 30}
    return {"timer": timer, "kinds": {"alloc": histogram(base), "free": histogram(base // 2 + 5)}}


def fragmentation(waste, comparable=True):
    ops = list(range(1, 201))
    live = [int(4096 * (1 + math.sin(i / 20)) + 1000) for i in ops]
    foot = [int(v * waste) + 65536 for v in live]
    f = {"comparable": comparable, "time_average": waste + 0.123, "at_peak_live": waste + 0.01,
         "at_peak_footprint": waste + 0.5, "peak_to_peak": waste + 0.256, "internal_average": 1.02,
         "internal_at_peak_live": 1.01}
    for key in ("peak_live_bytes", "peak_footprint_bytes", "live_at_peak_live", "footprint_at_peak_live",
                "usable_at_peak_live", "live_at_peak_footprint", "footprint_at_peak_footprint",
                "backend_peak_footprint", "footprint_reads"):
        f[key] = max(foot)
    return {**f, "every": 1, "timeline": {"op": ops, "live_bytes": live, "footprint_bytes": foot}}


def result(backend, trace, ops_per_sec, *, timed=True, footprint=1 << 20, base=20):
    skipped, failed = len(backend) * 3, len(trace) * 1001  # distinct, so a swapped column shows
    return {"backend": backend, "trace": trace, "ops": 200 + skipped, "sent": 200, "skipped": skipped, "failures": failed,
            "divergences": 0, "detections": 0, "peak_live_bytes": 9192, "peak_live_blocks": 10,
            "peak_footprint_bytes": footprint, "final_footprint_bytes": footprint, "elapsed_ns": 123456,
            "backend_ns": 100000, "ops_per_sec": ops_per_sec, "threads": 0, "trace_threads": 1,
            "latency": latency(base) if timed else None, "fragmentation": fragmentation(1.5 + len(backend) / 10)}


def document(results, sanitized=False):
    doc = {"schema_version": 4,
           "machine": {"hostname": "box", "os": "Linux", "release": "6.1", "arch": "x86_64", "cpus": 4,
                       "cpu_model": "Test CPU 9000"},
           "build": {"heaplab": "0.1.0", "id": "ab12" * 16, "contract_version": 1, "compiler": "gcc 12.2.0",
                     "flags": "-O2 -g", "sanitized": sanitized, "optimized": True},
           "results": results}
    jsonschema.validate(doc, SCHEMA)
    return doc


def report_document(reproducer):
    """Trace a with latency, trace b without; bins diverged on b with REPRODUCER."""
    rs = [result(b, "traces/a.trace", v, base=10 * (i + 1), footprint=(i + 1) << 20)
          for i, (b, v) in enumerate(BACKENDS.items())]
    rs += [result(b, "traces/b.trace", v / 2, timed=False) for b, v in BACKENDS.items()]
    rs[0]["backend_version"] = "bins 2.1"
    rs[3].update(divergences=1, finding={"rule": "OVERLAP", "index": 7, "line": 9, "message": "block 2 overlaps 1",
                                         "reproducer": str(reproducer)})
    return document(rs)


def write(path, doc):
    path.write_text(json.dumps(doc))
    return path


def cli(*args, cwd=ROOT):
    """Runs `python3 -m heaplab_report ARGS` as the C driver would; returns the CompletedProcess."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "reports")}
    return subprocess.run([sys.executable, "-m", "heaplab_report", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


# --- reading the report back ---------------------------------------------------------

def markdown_table(text, heading):
    """Returns the rows (lists of cell text) of the first table after HEADING in Markdown TEXT."""
    section = text.split(heading + "\n", 1)[1]
    lines = [block.strip() for block in section.split("\n\n") if block.strip().startswith("|")][0].splitlines()
    return [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in lines[:1] + lines[2:]]


class Tables(HTMLParser):
    """Collects every <table> of an HTML page as rows of cell text."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.cell = [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def row_of(rows, trace, backend):
    header = rows[0]
    found = [dict(zip(header, r)) for r in rows[1:] if r[:2] == [trace, backend]]
    assert len(found) == 1, (trace, backend, rows)
    return found[0]


def number(cell):
    return float(cell.replace(",", "").rstrip("x"))


# --- loading --------------------------------------------------------------------------

def test_loads_and_merges_valid_documents(tmp_path):
    a = write(tmp_path / "a.json", document([result("bins", "t1", 1e6)]))
    b = write(tmp_path / "b.json", document([result("libc", "t1", 2e6), result("libc", "t1", 2.1e6)]))
    assert load.load(a)["results"][0]["backend"] == "bins"
    merged = load.load_all([a, b])
    assert [r["backend"] for r in merged["results"]] == ["bins", "libc", "libc"]
    assert [s["file"] for s in merged["sources"]] == [str(a), str(b)]
    assert [s["results"] for s in merged["sources"]] == [1, 2]
    jsonschema.validate(merged, SCHEMA)


@pytest.mark.parametrize("content, expected", [
    ("{\"schema_version\": 3,", "not JSON"),
    (None, "no such file"),
])
def test_unreadable_input_exits_2_naming_the_file(tmp_path, content, expected):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    proc = cli("render", "--out", tmp_path / "out", path)
    assert proc.returncode == 2
    assert str(path) in proc.stderr and expected in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_schema_violation_exits_2_with_the_json_path(tmp_path):
    doc = document([result("bins", "t1", 1e6), result("libc", "t1", 1e6)])
    doc["results"][1]["ops"] = -1
    path = write(tmp_path / "bad.json", doc)
    for args in (("render", "--out", tmp_path / "out", path), ("compare", path, path)):
        proc = cli(*args)
        assert proc.returncode == 2, proc.stderr
        assert f"{path}: schema violation at $.results[1].ops" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_refuses_to_mix_sanitized_and_release(tmp_path):
    release = write(tmp_path / "release.json", document([result("bins", "t1", 1e6)]))
    sanitized = write(tmp_path / "asan.json", document([result("bins", "t1", 1e5)], sanitized=True))
    for args in (("render", "--out", tmp_path / "out", release, sanitized), ("compare", release, sanitized)):
        proc = cli(*args)
        assert proc.returncode == 2
        assert "cannot mix" in proc.stderr and "sanitized" in proc.stderr
        assert str(release) in proc.stderr and str(sanitized) in proc.stderr


def test_refuses_to_mix_comparable_and_not_comparable_fragmentation():
    comparable = document([result("bins", "t1", 1e6)])
    other = copy.deepcopy(comparable)
    other["results"][0]["fragmentation"]["comparable"] = False
    with pytest.raises(load.InputError, match=r"fragmentation\.comparable.*x\.json.*y\.json"):
        load.merge([("x.json", comparable), ("y.json", other)])


# --- render ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Renders report_document once; returns (doc, input path, out dir, CompletedProcess)."""
    tmp = tmp_path_factory.mktemp("report")
    reproducer = tmp / "findings" / "b.bins.OVERLAP.trace"
    reproducer.parent.mkdir()
    reproducer.write_text("heaplab-trace 1\nend\n")
    doc = report_document(reproducer)
    path = write(tmp / "results.json", doc)
    out = tmp / "out"
    proc = cli("render", "--out", out, "--commit", "abc123", path)
    assert proc.returncode == 0, proc.stderr
    return doc, path, out, proc


def test_render_writes_the_report_and_says_where(rendered):
    doc, _, out, proc = rendered
    assert proc.stdout.strip() == f"report: {out / 'index.html'}"
    written = json.loads((out / "results.json").read_text())
    assert written["build"].pop("commit") == "abc123"
    assert written == doc


def expected_plots():
    return ["relative-speed", "latency-a", "footprint-a", "fragmentation-a", "footprint-b", "fragmentation-b"]


def test_every_plot_is_a_non_blank_png(rendered):
    out = rendered[2]
    assert sorted(p.stem for p in (out / "plots").glob("*.png")) == sorted(expected_plots())
    for name in expected_plots():
        path = out / "plots" / f"{name}.png"
        assert path.stat().st_size > 5000, name
        assert path.read_bytes()[:8] == PNG, name
        pixels = matplotlib.image.imread(path)[:, :, :3]
        assert pixels.std() > 0.05, f"{name} is blank"
        assert f"(<plots/{name}.png>)" in (out / "report.md").read_text()


def test_plots_draw_every_backend_distinguishably(rendered):
    doc = rendered[0]
    style = plots.styles(runs.backends(doc))
    looks = {(s["color"], str(s["linestyle"]), s["marker"]) for s in style.values()}
    assert len({c for c, _, _ in looks}) == len({ls for _, ls, _ in looks}) == len({m for _, _, m in looks}) == 3
    cdf = plots.latency_cdf(doc, "traces/a.trace", style)
    assert [ax.get_title() for ax in cdf.axes] == ["alloc", "free"]
    for ax in cdf.axes:
        assert ax.get_xscale() == "log" and "ns" in ax.get_xlabel() and ax.get_ylabel()
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        assert list(lines) == list(BACKENDS)
        # a CDF ends at its last bucket's top: the kind's max
        tops = {b: r["latency"]["kinds"][ax.get_title()]["max_ns"] for b, r in
                ((r["backend"], r) for r in doc["results"] if r["trace"] == "traces/a.trace")}
        assert {b: ln.get_xdata()[-1] for b, ln in lines.items()} == tops
    assert plots.latency_cdf(doc, "traces/b.trace", style) is None
    foot = plots.footprint(doc, "traces/b.trace", style).axes[0]
    assert [ln.get_label() for ln in foot.get_lines()] == [f"{b} footprint" for b in BACKENDS]
    assert foot.get_lines()[0].get_ydata()[-1] * 2**10 == doc["results"][3]["fragmentation"]["timeline"][
        "footprint_bytes"][-1]
    assert foot.get_ylabel() == "bytes, KiB" and "operation" in foot.get_xlabel()
    bars = plots.fragmentation(doc, "traces/a.trace").axes[0]
    heights = [p.get_height() for p in bars.patches]
    expected = [r["fragmentation"][m] for m in ("time_average", "at_peak_live", "at_peak_footprint", "peak_to_peak")
                for r in doc["results"][:3]]
    assert heights == pytest.approx(expected)
    assert [t.get_text() for t in bars.get_legend().get_texts()][-4:] == [
        "1: time average", "2: at peak live", "3: at peak footprint", "4: peak to peak"]


def test_missing_latency_skips_the_cdf_with_a_note_and_dashes(rendered):
    doc, _, out, _ = rendered
    md = (out / "report.md").read_text()
    section_b = md.split("## Trace traces/b.trace", 1)[1]
    assert "No latency measured on this trace" in section_b
    rows = markdown_table(md, "## Summary")
    b = row_of(rows, "traces/b.trace", "libc")
    assert [b[k] for k in ("alloc p50 ns", "alloc p99 ns", "alloc p99.9 ns", "alloc max ns")] == ["-"] * 4
    assert b["frag time avg"] != "-"


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_summary_numbers_equal_the_document(rendered, fmt):
    doc, _, out, _ = rendered
    if fmt == "md":
        rows = markdown_table((out / "report.md").read_text(), "## Summary")
    else:
        tables = Tables((out / "index.html").read_text()).tables
        rows = next(t for t in tables if t[0][:3] == ["Trace", "Backend", "Runs"])
    for trace, backend in (("traces/a.trace", "arena"), ("traces/a.trace", "libc"), ("traces/b.trace", "bins")):
        r = next(r for r in doc["results"] if (r["trace"], r["backend"]) == (trace, backend))
        row = row_of(rows, trace, backend)
        assert row["ops/s"] == f"{round(r['ops_per_sec']):,}"
        assert number(row["ops/s"]) == pytest.approx(r["ops_per_sec"], abs=0.5)
        assert number(row["peak footprint bytes"]) == r["peak_footprint_bytes"]
        assert number(row["skipped ops"]) == r["skipped"] and number(row["failed calls"]) == r["failures"]
        f = r["fragmentation"]
        for column, key in (("frag time avg", "time_average"), ("frag at peak live", "at_peak_live"),
                            ("frag at peak footprint", "at_peak_footprint"), ("frag peak-to-peak", "peak_to_peak")):
            assert number(row[column]) == pytest.approx(f[key], abs=0.005), column
        if r["latency"]:
            alloc = r["latency"]["kinds"]["alloc"]
            for column, key in (("alloc p50 ns", "p50_ns"), ("alloc p99 ns", "p99_ns"),
                                ("alloc p99.9 ns", "p999_ns"), ("alloc max ns", "max_ns")):
                assert number(row[column]) == alloc[key], column
    assert row_of(rows, "traces/a.trace", "arena")["alloc p99 ns"] == "2,099"


def test_kind_table_details_every_kind(rendered):
    doc, _, out, _ = rendered
    md = (out / "report.md").read_text().split("## Trace traces/a.trace", 1)[1]
    rows = markdown_table(md, "### Latency")
    assert rows[0][:3] == ["Backend", "Kind", "calls"]
    kinds = {(r[0], r[1]): r for r in rows[1:]}
    assert set(kinds) == {(b, k) for b in BACKENDS for k in ("alloc", "free")}
    free = doc["results"][2]["latency"]["kinds"]["free"]
    assert number(kinds[("libc", "free")][rows[0].index("p90 ns")]) == free["p90_ns"]


def test_machine_and_build_are_shown(rendered):
    md = (rendered[2] / "report.md").read_text()
    for text in ("Test CPU 9000, 4 CPUs", "Linux 6.1 x86_64", "gcc 12.2.0", "-O2 -g", "0.1.0 (commit abc123)",
                 "| bins | bins 2.1 |", "rdtsc: resolution 10 ns"):
        assert text in md, text


def test_heat_map_is_relative_to_the_baseline(rendered):
    doc, _, out, _ = rendered
    rows = markdown_table((out / "report.md").read_text(), "## Relative speed")
    assert rows[0] == ["Trace", "bins", "arena", "libc"]
    for row in rows[1:]:
        assert row[3] == "1.00x"  # libc is the default baseline
        assert row[2] == f"{BACKENDS['arena'] / BACKENDS['libc']:.2f}x" == "1.25x"
    # the figure's annotations, with another baseline
    fig = plots.relative_speed(doc, runs.baseline(doc, "bins"))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["1.00x", "1.67x", "1.33x"] * 2
    with pytest.raises(load.InputError, match="--baseline nope"):
        runs.baseline(doc, "nope")


def test_divergence_is_listed_with_its_reproducer(rendered):
    doc, _, out, _ = rendered
    repro = doc["results"][3]["finding"]["reproducer"]
    md = (out / "report.md").read_text()
    rows = markdown_table(md, "## Divergences")
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    assert (row["Trace"], row["Backend"], row["Rule"], row["op index"]) == ("traces/b.trace", "bins", "OVERLAP", "7")
    link = re.fullmatch(r"\[(.+)\]\(<(.+)>\)", row["Reproducer"])
    assert link and link.group(1) == repro and not os.path.isabs(link.group(2))
    assert (out / link.group(2)).resolve() == Path(repro).resolve()
    assert f'<a href="{link.group(2)}">{repro}</a>' in (out / "index.html").read_text()
    assert row_of(markdown_table(md, "## Summary"), "traces/b.trace", "bins")["divergences"] == \
        f"[1: OVERLAP](<{link.group(2)}>)"


def test_index_html_is_self_contained(rendered):
    page = (rendered[2] / "index.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "<script" not in page
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(expected_plots())
    assert all(base64.b64decode(i)[:8] == PNG for i in images)


def test_render_copes_with_repeats_and_no_fragmentation(tmp_path):
    rs = [result("bins", "t", v) for v in (1e6, 3e6, 2e6)] + [result("libc", "t", 1e6, timed=False)]
    rs[3]["fragmentation"] = None
    path = write(tmp_path / "r.json", document(rs))
    out = tmp_path / "out"
    assert cli("render", "--out", out, path).returncode == 0
    md = (out / "report.md").read_text()
    rows = markdown_table(md, "## Summary")
    bins, libc = row_of(rows, "t", "bins"), row_of(rows, "t", "libc")
    assert (bins["Runs"], bins["ops/s"]) == ("3", "2,000,000")  # the median run
    assert libc["frag time avg"] == "-" and libc["alloc p50 ns"] == "-"
    assert (out / "plots" / "latency-t.png").exists() and (out / "plots" / "footprint-t.png").exists()


# --- compare --------------------------------------------------------------------------

def flags(rows):
    return {(r.trace, r.backend): " ".join(r.flags()) or "ok" for r in rows}


def pairs_doc(factor=None, spread=0.0, runs_each=1):
    """Two traces x three backends; FACTOR {(trace, backend): f} scales ops/s; each pair runs
    RUNS_EACH times spread +-SPREAD/2 around its value."""
    out = []
    steps = [0.0] if runs_each == 1 else [-spread / 2 + spread * i / (runs_each - 1) for i in range(runs_each)]
    for trace in ("traces/a.trace", "traces/b.trace"):
        for backend, v in BACKENDS.items():
            f = (factor or {}).get((trace, backend), 1.0)
            out += [result(backend, trace, v * f * (1 + s)) for s in steps]
    return document(out)


def test_compare_flags_a_2x_slowdown_not_a_2_percent_wobble(tmp_path):
    a = write(tmp_path / "a.json", pairs_doc())
    b = write(tmp_path / "b.json", pairs_doc({("traces/a.trace", "bins"): 0.5, ("traces/b.trace", "libc"): 0.98,
                                              ("traces/b.trace", "arena"): 1.02}))
    proc = cli("compare", a, b)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = {tuple(ln.split()[:2]): ln for ln in proc.stdout.splitlines() if re.match(r"[ab]\.trace ", ln)}
    assert lines[("a.trace", "bins")].endswith("SLOWER") and "0.50x" in lines[("a.trace", "bins")]
    assert lines[("b.trace", "libc")].endswith("ok") and "0.98x" in lines[("b.trace", "libc")]
    assert lines[("b.trace", "arena")].endswith("ok")
    assert sum(ln.endswith("SLOWER") for ln in lines.values()) == 1
    wobble = write(tmp_path / "wobble.json", pairs_doc({("traces/a.trace", "bins"): 0.98}))
    proc = cli("compare", a, wobble, "--out", tmp_path / "cmp")
    assert proc.returncode == 0, proc.stdout
    assert "0 changed significantly, 0 regressions" in proc.stdout
    assert "| a.trace | bins | 1/1 |" in (tmp_path / "cmp" / "compare.md").read_text()
    assert "<table>" in (tmp_path / "cmp" / "compare.html").read_text()


def test_compare_uses_the_noise_of_repeats():
    slower = {("traces/a.trace", "bins"): 0.85}
    noisy = compare.compare(pairs_doc(spread=0.30, runs_each=3), pairs_doc(slower, spread=0.30, runs_each=3), 0.10)
    row = next(r for r in noisy if (r.trace, r.backend) == ("a.trace", "bins"))
    assert row.speed.old.noise == pytest.approx(0.30) and row.speed.limit == pytest.approx(0.90)
    assert set(flags(noisy).values()) == {"ok"}
    quiet = compare.compare(pairs_doc(spread=0.01, runs_each=3), pairs_doc(slower, spread=0.01, runs_each=3), 0.10)
    assert flags(quiet)[("a.trace", "bins")] == "SLOWER"
    assert list(flags(quiet).values()).count("ok") == 5
    # one run a side: the noise is unknown, the threshold alone decides
    single = compare.compare(pairs_doc(), pairs_doc(slower), 0.10)
    assert single[0].speed.old.noise is None and flags(single)[("a.trace", "bins")] == "SLOWER"
    assert flags(compare.compare(pairs_doc(), pairs_doc(slower), 0.20))[("a.trace", "bins")] == "ok"


def relabel(doc, backends=None, folder=None):
    """DOC with its backends renamed ({old: new}) and its traces moved to FOLDER."""
    doc = copy.deepcopy(doc)
    for r in doc["results"]:
        r["backend"] = (backends or {}).get(r["backend"], r["backend"])
        if folder:
            r["trace"] = f"{folder}/{Path(r['trace']).name}"
    return doc


def test_compare_matches_by_trace_file_name_and_backend_label(tmp_path):
    # the same traces from another folder, the same labels: every pair matches
    moved = relabel(pairs_doc({("traces/a.trace", "bins"): 0.5}), folder="/elsewhere/traces")
    rows = compare.compare(pairs_doc(), moved, 0.10)
    assert len(rows) == 6 and all(r.note is None for r in rows)
    assert flags(rows)[("a.trace", "bins")] == "SLOWER"
    # a document holding two traces of one file name keeps them apart by path
    doc = pairs_doc()
    doc["results"] += [dict(r, trace="other/a.trace") for r in doc["results"] if r["trace"] == "traces/a.trace"]
    assert {k[0] for k in compare.keyed(doc)} == {"traces/a.trace", "other/a.trace", "b.trace"}


def test_compare_as_pairs_two_labels_and_nothing_in_common_is_bad_input(tmp_path):
    old = write(tmp_path / "old.json", pairs_doc())
    renamed = write(tmp_path / "new.json", relabel(pairs_doc({("traces/a.trace", "bins"): 0.5}), {"bins": "bins-v2"}))
    proc = cli("compare", old, renamed)  # bins and bins-v2 each on one side only
    assert proc.returncode == 0 and proc.stdout.count("only in") == 4, proc.stdout
    proc = cli("compare", old, renamed, "--as", "bins=bins-v2")
    assert proc.returncode == 1 and "SLOWER" in proc.stdout and "only in" not in proc.stdout, proc.stdout
    assert "old.json's bins is compared with" in proc.stdout
    for bad, said in ((["--as", "bins=nothing"], "has no backend nothing"), (["--as", "bins"], "is not OLD=NEW"),
                      (["--as", "tcmalloc=bins-v2"], "has no backend tcmalloc")):
        proc = cli("compare", old, renamed, *bad)
        assert proc.returncode == 2 and said in proc.stderr, proc.stderr
    # no (trace, backend) in common: a comparison of nothing is refused, naming both sides
    other = write(tmp_path / "other.json", relabel(pairs_doc(), {b: b + "-x" for b in BACKENDS}))
    proc = cli("compare", old, other)
    assert proc.returncode == 2 and "nothing is compared" in proc.stderr and "bins-x" in proc.stderr, proc.stderr
    assert "--as OLD=NEW" in proc.stderr


def test_compare_min_median_and_footprint():
    old = pairs_doc(spread=0.2, runs_each=3)
    new = copy.deepcopy(old)
    for r in new["results"]:
        if r["backend"] == "arena":
            r["peak_footprint_bytes"] *= 2
        if r["backend"] == "libc":
            r["ops_per_sec"] *= 3
    rows = compare.compare(old, new, 0.10)
    arena = next(r for r in rows if r.backend == "arena")
    assert arena.speed.old.min == pytest.approx(BACKENDS["arena"] * 0.9)
    assert arena.speed.old.median == pytest.approx(BACKENDS["arena"])
    assert arena.footprint.ratio == 2 and arena.flags() == ["LARGER"]
    assert next(r for r in rows if r.backend == "libc").flags() == ["FASTER"]
    assert compare.regressed(rows)
    assert not compare.regressed([r for r in rows if r.backend != "arena"])
