"""Measurements end to end (issue 12, items 1, 2 and 4): `replay --latency` gives
per-kind latency histograms, every run gives the Johnstone-Wilson fragmentation
measures and a footprint timeline, and the results document validates against
reports/schema/results.schema.json."""
import json

import jsonschema
import pytest

from conftest import ROOT

SCHEMA = json.loads((ROOT / "reports" / "schema" / "results.schema.json").read_text())
REAL = "traces/real/perl-words.trace.zst"
KINDS = ["alloc", "free", "realloc", "usable", "scope_enter", "scope_exit", "promote", "free_all"]


def replay_json(driver, *args):
    proc = driver("replay", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA)
    return doc


@pytest.fixture(scope="module")
def latency_doc(heaplab_release):
    return replay_json(heaplab_release, "--latency", "--backends", "refs,libc", REAL, "traces/scopes.trace")


def test_latency_histograms_count_every_call(latency_doc):
    assert latency_doc["build"]["sanitized"] is False
    assert len(latency_doc["results"]) == 14  # 7 backends (refs: 6, libc) x 2 traces
    for r in latency_doc["results"]:
        lat = r["latency"]
        assert lat["timer"]["overhead_ns"] > 0
        assert lat["timer"]["resolution_ns"] >= lat["timer"]["tick_ns"]
        kinds = lat["kinds"]
        assert set(kinds) <= set(KINDS)
        # every call sent to the backend is timed once, in its kind's histogram
        # (touch is an access, not a call: the perl trace has none)
        timed = sum(k["count"] for k in kinds.values())
        assert timed == r["sent"] if r["trace"] == REAL else 0 < timed < r["sent"], r["backend"]
        for name, k in kinds.items():
            assert k["min_ns"] <= k["p50_ns"] <= k["p90_ns"] <= k["p99_ns"] <= k["p999_ns"] <= k["max_ns"], name
            assert sum(b[2] for b in k["buckets"]) == k["count"]
            lows = [b[0] for b in k["buckets"]]
            assert lows == sorted(lows) and all(b[0] <= b[1] for b in k["buckets"])
            assert k["buckets"][-1][1] >= k["max_ns"] >= k["buckets"][-1][0]
    perl = [r for r in latency_doc["results"] if r["trace"] == REAL]
    assert all({"alloc", "free", "realloc"} <= set(r["latency"]["kinds"]) for r in perl)
    scopes = [r for r in latency_doc["results"] if r["trace"].endswith("scopes.trace")]
    arena = next(r for r in scopes if r["backend"] == "arena")
    assert {"scope_enter", "scope_exit"} <= set(arena["latency"]["kinds"])


def test_fragmentation_measures_are_consistent(latency_doc):
    for r in latency_doc["results"]:
        f = r["fragmentation"]
        assert f["comparable"] is True
        assert f["peak_live_bytes"] == r["peak_live_bytes"]
        line = f["timeline"]
        n = len(line["op"])
        assert 1 <= n <= 4096 and len(line["live_bytes"]) == n == len(line["footprint_bytes"])
        assert line["op"] == sorted(line["op"]) and line["op"][-1] == r["ops"]
        assert max(line["live_bytes"]) <= f["peak_live_bytes"]
        if r["ops"] > 4095:
            assert n >= 2000, "a long trace keeps a few thousand points"
        # footprint is never below the live bytes on these backends, so every
        # footprint-over-live measure is at least 1, and so is usable over requested
        for m in ("at_peak_live", "at_peak_footprint", "peak_to_peak", "internal_average", "internal_at_peak_live"):
            assert f[m] >= 1.0, (r["backend"], r["trace"], m, f[m])
        assert f["peak_to_peak"] == pytest.approx(f["peak_footprint_bytes"] / f["peak_live_bytes"])
        assert f["at_peak_live"] == pytest.approx(f["footprint_at_peak_live"] / f["live_at_peak_live"])
        assert f["live_at_peak_live"] <= f["peak_live_bytes"] <= f["live_at_peak_live"] * 1.004 + 1


def test_sanitized_build_marks_fragmentation_not_comparable(heaplab):
    doc = replay_json(heaplab, "--backends", "bins", "traces/basic.trace")
    r = doc["results"][0]
    assert doc["build"]["sanitized"] is True
    assert r["fragmentation"]["comparable"] is False
    assert r["latency"] is None  # not timed without --latency


def test_latency_table(heaplab_release):
    proc = heaplab_release("replay", "--latency", "--backends", "bins", "traces/basic.trace")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "latency (ns; the counter steps by" in out and "timer overhead" in out
    header = next(line for line in out.splitlines() if line.strip().startswith("kind"))
    assert header.split() == ["kind", "count", "mean", "p50", "p90", "p99", "p99.9", "max"]
    assert any(line.split()[:1] == ["alloc"] for line in out.splitlines())


def test_schema_rejects_a_broken_document(latency_doc):
    broken = json.loads(json.dumps(latency_doc))
    del broken["results"][0]["fragmentation"]["timeline"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
    broken = json.loads(json.dumps(latency_doc))
    broken["results"][0]["latency"]["kinds"]["alloc"]["p99_ns"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
