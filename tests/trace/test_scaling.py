"""What a trace costs is bounded by what it holds, not by what it claims: validate's
time grows linearly with scope nesting (a million nested scopes take at most 30 times
what a hundred thousand take, best runs of each: linear is about 10 and a lookup that
scans the open scopes makes it about 100; a ratio of two runs of one binary, not
seconds, so a loaded machine slows both alike, and the margin absorbs what it does not); validate and convert stream a zstd bomb in a few MiB; a trace read into memory
stops at --max-ops naming the file; a device or a pipe is read with the same bounds."""
import os
import subprocess
import time

from conftest import ROOT


def nested_scopes(path, n):
    """N scopes, each inside the one before, a block in each, closed innermost first."""
    with open(path, "w") as f:
        f.write("heaplab-trace 1\n")
        f.writelines(f"scope_enter {i}\nalloc {i} 16\n" for i in range(1, n + 1))
        f.writelines(f"scope_exit {i}\n" for i in range(n, 0, -1))
        f.write("end\n")
    return path


def best_time(binary, trace, runs):
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([str(binary.path), "validate", str(trace)], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        elapsed = time.perf_counter() - start
        assert proc.returncode == 0 and "ok (" in proc.stdout, proc.stdout + proc.stderr
        best = elapsed if best is None else min(best, elapsed)
    return best


def test_validate_time_grows_linearly_with_scope_nesting(heaplab_release, tmp_path):
    small = best_time(heaplab_release, nested_scopes(tmp_path / "e5.trace", 100_000), runs=5)
    large = best_time(heaplab_release, nested_scopes(tmp_path / "e6.trace", 1_000_000), runs=3)
    assert large <= 30 * small, f"10^6 nested scopes took {large:.2f} s, 10^5 took {small:.2f} s: {large / small:.1f}x"


def peak_rss(*command, stdin=None):
    """(CompletedProcess, peak resident bytes) of command, measured by build/bench/peak-rss."""
    proc = subprocess.run([str(ROOT / "build/bench/peak-rss"), *map(str, command)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, stdin=stdin)
    line = [l for l in proc.stderr.splitlines() if l.startswith("peak-rss: ")][-1]
    return proc, int(line.split()[1])


def zstd_bomb(heaplab, path, lines):
    """A small .zst that decompresses to LINES alloc/free lines (about 8 bytes each),
    made by heaplab itself from a pipe: convert streams it from a stream it never holds."""
    body = subprocess.Popen(["sh", "-c", f"echo 'heaplab-trace 1'; yes 'alloc 1 16\nfree 1' | head -n {lines}; echo end"],
                            stdout=subprocess.PIPE)
    proc = subprocess.run([str(heaplab.path), "convert", "--to", "text", "/dev/stdin", str(path)], stdin=body.stdout,
                          capture_output=True, text=True, timeout=300)
    body.wait()
    assert proc.returncode == 0, proc.stderr
    return path


def test_a_zstd_bomb_streams_through_validate_and_convert_in_bounded_memory(heaplab_release, tmp_path):
    bomb = zstd_bomb(heaplab_release, tmp_path / "bomb.trace.zst", 24_000_000)  # ~190 MB of text
    assert bomb.stat().st_size < 100_000
    proc, rss = peak_rss(heaplab_release.path, "validate", bomb)
    assert proc.returncode == 0 and "ok (24000000 operations, text form)" in proc.stdout, proc.stderr
    assert rss < 64 << 20, f"validate held {rss >> 20} MiB"  # before: the whole text and 56 bytes an operation
    out = tmp_path / "bomb.bin"
    proc, rss = peak_rss(heaplab_release.path, "convert", "--to", "binary", bomb, out)
    assert proc.returncode == 0 and rss < 64 << 20, (proc.stderr, rss)
    proc = heaplab_release("validate", out)
    assert "ok (24000000 operations, binary form)" in proc.stdout


def test_a_trace_past_max_ops_fails_fast_naming_the_file(heaplab_release, tmp_path):
    bomb = zstd_bomb(heaplab_release, tmp_path / "bomb.trace.zst", 24_000_000)
    proc, rss = peak_rss(heaplab_release.path, "replay", "--max-ops", "1M", "--backends", "bins", bomb)
    assert proc.returncode == 2
    assert f"{bomb}: line 1048578: more than 1048576 operations" in proc.stderr
    assert rss < 256 << 20, f"replay held {rss >> 20} MiB before refusing"
    proc = heaplab_release("replay", "--help")
    assert "--max-ops N" in proc.stdout and "a quarter of the machine's memory" in proc.stdout


def test_a_device_or_pipe_named_as_a_trace_is_read_with_bounds(heaplab_release, tmp_path):
    for device in ("/dev/zero", "/dev/urandom"):  # fails its magic at once, instead of reading forever
        proc = heaplab_release("validate", device, timeout=20)
        assert proc.returncode == 2 and f"{device}: not a heaplab trace (wrong magic)" in proc.stderr
    fifo = tmp_path / "pipe.trace"  # a named pipe holding a trace streams like a file
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"cat traces/basic.trace > {fifo}"], cwd=ROOT)
    proc = heaplab_release("validate", fifo, timeout=20)
    writer.wait()
    assert proc.returncode == 0 and "ok (67 operations, text form)" in proc.stdout
    endless = subprocess.Popen(["sh", "-c", "printf 'heaplab-trace 1\\n'; yes x | tr -d '\\n'"], stdout=subprocess.PIPE)
    proc = subprocess.run([str(heaplab_release.path), "validate", "/dev/stdin"], stdin=endless.stdout,
                          capture_output=True, text=True, timeout=60)
    endless.kill()
    assert proc.returncode == 2 and "/dev/stdin:2: line longer than 1048576 bytes" in proc.stderr


def test_an_import_from_a_device_stops_at_its_cap(heaplab_release, tmp_path):
    """A foreign log is read whole, so a pipe or device is read up to 256 MiB and no more."""
    out = tmp_path / "zero.trace"
    proc = heaplab_release("import", "--from", "mtrace", "/dev/zero", "-o", out, timeout=60)
    assert proc.returncode == 2 and "/dev/zero: not a regular file, and longer than 256 MiB" in proc.stderr
    assert not out.exists()


def test_replay_streams_its_trace_instead_of_holding_it(heaplab_release, tmp_path):
    """The check path reads the trace from its file a window at a time: 4x10^6
    operations (one block alive at a time) replay in a few MiB; held whole, the
    operation records alone took 224 MB."""
    churn = zstd_bomb(heaplab_release, tmp_path / "churn.trace.zst", 4_000_000)
    proc, rss = peak_rss(heaplab_release.path, "replay", "-q", "--no-speed", "--backends", "bins", churn)
    assert proc.returncode == 0 and "1 runs: 1 clean" in proc.stdout, proc.stderr
    assert rss < 64 << 20, f"replay --no-speed held {rss >> 20} MiB"


def test_the_check_path_holds_under_100_bytes_a_live_block(heaplab_release, tmp_path):
    """10^6 live blocks of 16 bytes on libc (glibc's own memory: 32 bytes each): the
    executor's entry, the shadow's record and their indexes, about 117 MiB in all.
    Before the compact entries, the streamed trace and the untracked adapter: 329 B a
    block, 350 MiB; with the timed run's plan held through the checking run, 148 MiB."""
    n = 1_000_000
    path = tmp_path / "live.trace"
    with open(path, "w") as f:
        f.write("heaplab-trace 1\n")
        f.writelines(f"alloc {i} 16\n" for i in range(1, n + 1))
        f.write("end\n")
    for extra in (["--no-speed"], []):
        proc, rss = peak_rss(heaplab_release.path, "replay", "-q", *extra, "--backends", "libc", path)
        assert proc.returncode == 0 and "1 runs: 1 clean" in proc.stdout, proc.stderr
        assert rss < 135 << 20, f"replay {extra} of 10^6 live blocks held {rss >> 20} MiB"
