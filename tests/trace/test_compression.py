"""zstd-compressed traces (trace/trace_zstd.c): written when the output ends in
`.zst`, read by every command whatever the name (by the zstd magic), a stream cut
short replays its complete records with a warning, a damaged one is bad input."""
import subprocess
import sys

from conftest import ROOT


def ops(text):
    return [l for l in text.splitlines()[1:] if l and l[0] != "#" and l != "end"]


def test_compressed_traces_round_trip_and_are_found_by_magic(heaplab, tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    for trace in sorted((ROOT / "traces").glob("*.trace")):
        packed = data / (trace.stem + ".anything")  # found by magic, not by name
        assert heaplab("convert", "--to", "text", trace, tmp_path / "x.trace.zst").returncode == 0
        packed.write_bytes((tmp_path / "x.trace.zst").read_bytes())
        back, plain = tmp_path / (trace.stem + ".trace"), tmp_path / (trace.stem + ".plain")
        assert heaplab("convert", "--to", "text", packed, back).returncode == 0
        assert heaplab("convert", "--to", "text", trace, plain).returncode == 0  # the same writer, uncompressed
        assert back.read_text() == plain.read_text()
    assert heaplab("convert", "--to", "binary", ROOT / "traces/scopes.trace", data / "scopes.hlt.zst").returncode == 0
    proc = heaplab("validate", data)
    assert proc.returncode == 0 and proc.stdout.count(": ok (") == 9
    proc = heaplab("replay", "-q", "--backends", "bins,wasm", data)
    assert proc.returncode == 0 and "18 runs: 18 clean" in proc.stdout


def test_a_cut_stream_replays_its_complete_records_and_damage_is_bad_input(heaplab, tmp_path):
    big = tmp_path / "big.trace"
    subprocess.run([sys.executable, ROOT / "bench/gen_trace.py", "--ops", "100000", "--live", "2000", big], check=True)
    packed = tmp_path / "big.trace.zst"
    assert heaplab("convert", "--to", "text", big, packed).returncode == 0
    raw = packed.read_bytes()
    assert len(raw) * 2 < big.stat().st_size  # it does compress
    cut = tmp_path / "cut.trace.zst"
    cut.write_bytes(raw[: len(raw) // 2])
    proc = heaplab("replay", "-q", "--no-shadow", "--backends", "bins", cut)
    assert proc.returncode == 0
    assert "cut.trace.zst: warning: trace ends without an end marker (cut tail); replaying the " in proc.stderr
    damaged = tmp_path / "damaged.trace.zst"
    damaged.write_bytes(raw[:4] + bytes(b ^ 0x5A for b in raw[4:200]) + raw[200:])
    proc = heaplab("validate", damaged)
    assert proc.returncode == 2 and "damaged.trace.zst: the zstd stream is damaged" in proc.stderr
    head = tmp_path / "head.trace.zst"  # cut inside the first block: nothing decompressed
    head.write_bytes(raw[:100])
    proc = heaplab("validate", head)
    assert proc.returncode == 2 and "ends before any byte of the trace" in proc.stderr
