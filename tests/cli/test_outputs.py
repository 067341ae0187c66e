"""Files heaplab writes after the fact are whole or absent (core/outfile.c): with the
disk full (a file-size limit stands in: the same failed write, EFBIG instead of
ENOSPC), convert, import, shrink and the fuzzer's findings leave nothing under the
final name (an older file there intact) and no temporary file, say which path and
why, exit 2 (a finding stays exit 1), and never print "written:" for a file that
is not there."""
import resource
import signal
import subprocess
import time

from conftest import ROOT


def limited(kib):
    """A preexec_fn: files may grow to KIB KiB; a write beyond fails (EFBIG) instead of
    killing the process (SIGXFSZ ignored)."""
    def setup():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (kib * 1024, hard))
    return setup


def run(binary, *args, kib=None, cwd=ROOT):
    return subprocess.run([str(binary.path), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300,
                          preexec_fn=limited(kib) if kib is not None else None)


def test_convert_on_a_full_disk_writes_nothing_and_keeps_the_old_file(heaplab, tmp_path):
    big = tmp_path / "big.trace"
    assert run(heaplab, "convert", "--to", "text", "traces/real/git-log.trace.zst", big).returncode == 0
    for out, form in ((tmp_path / "out.trace", "text"), (tmp_path / "out.bin", "binary"),
                      (tmp_path / "out.trace.zst", "text"), (tmp_path / "out.input", "fuzz-input")):
        out.write_text("old\n")
        proc = run(heaplab, "convert", "--to", form, big, out, kib=16)
        assert proc.returncode == 2, proc.stderr
        assert f"{out}: cannot write: File too large (nothing written)" in proc.stderr
        assert out.read_text() == "old\n"  # not a truncated trace that validates as a cut one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.trace", "out.bin", "out.input", "out.trace",
                                                            "out.trace.zst"]  # no temporary file left


def test_import_and_shrink_on_a_full_disk_write_nothing(heaplab, heaplab_test, tmp_path):
    out = tmp_path / "short.trace"
    proc = run(heaplab, "import", "--from", "malloclab", "tests/data/import/short.rep", "-o", out, kib=0)
    assert proc.returncode == 2 and f"{out}: cannot write" in proc.stderr and not out.exists()
    # a finding to shrink: the fuzzer's, on a planted bug (written with no limit)
    findings = tmp_path / "f"
    assert run(heaplab_test, "fuzz", "--backends", "bins,mutant-live-handout", "--seed", "1", "--runs", "200", "-q",
               "--findings", findings).returncode == 1
    trace = next(findings.glob("*.trace"))
    small = tmp_path / "small.trace"
    proc = run(heaplab_test, "shrink", trace, "-o", small, kib=0)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{small}: cannot write" in proc.stderr and f"written: {small}" not in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]  # neither small.trace nor a temporary file

def test_a_finding_that_cannot_be_written_is_not_said_written(heaplab_test, tmp_path):
    findings = tmp_path / "f"
    proc = run(heaplab_test, "fuzz", "--backends", "bins,mutant-live-handout", "--seed", "1", "--runs", "200", "-q",
               "--findings", findings, kib=0)
    assert proc.returncode == 1, proc.stderr  # the finding is still a finding
    assert "DIVERGENCE mutant-live-handout" in proc.stderr
    assert "written:" not in proc.stderr.replace("not written:", "")
    assert "cannot write: File too large (nothing written)" in proc.stderr
    assert list(findings.iterdir()) == []  # no half-written .trace, .input or .json


def test_a_results_document_that_does_not_fit_is_not_left_truncated(heaplab_release, tmp_path):
    out = tmp_path / "report"
    proc = run(heaplab_release, "report", "-q", "--backends", "bins", "--out", out, "traces/basic.trace", kib=1)
    assert proc.returncode == 2, proc.stderr
    document = out / "heaplab-results.json"
    assert f"{document}: cannot write: File too large (nothing written)" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # no document cut short, no report folder, no temporary one


def test_convert_onto_a_full_tmpfs_leaves_nothing(heaplab, small_disk, tmp_path):
    """The issue's case on a real full filesystem (ENOSPC, not a file-size limit)."""
    disk = small_disk.full(64)
    out = disk / "git-log.trace"
    proc = run(heaplab, "convert", "--to", "text", "traces/real/git-log.trace.zst", out)
    assert proc.returncode == 2, proc.stderr
    assert f"{out}: cannot write: No space left on device (nothing written)" in proc.stderr
    assert list(disk.iterdir()) == []  # not a cut trace that validates as "ok (cut tail)"


def test_findings_on_a_read_only_disk_are_not_said_written(heaplab_test, small_disk):
    findings = small_disk.read_only()
    proc = run(heaplab_test, "fuzz", "--backends", "bins,mutant-live-handout", "--seed", "1", "--runs", "200", "-q",
               "--findings", findings)
    assert proc.returncode == 1, proc.stderr
    assert "written:" not in proc.stderr.replace("not written:", "")
    assert "Read-only file system" in proc.stderr and "not written:" in proc.stderr


def test_an_interrupted_convert_leaves_no_temporary_file(heaplab_release, tmp_path):
    """Ctrl-C while the output is being written: exit 130, and neither the final name
    nor the temporary one beside it (core/outfile.c lists its open names for the
    signal handler)."""
    big = tmp_path / "big.trace"
    with open(big, "w") as f:
        f.write("heaplab-trace 1\n")
        f.writelines("alloc 1 16\nfree 1\n" for _ in range(3_000_000))
        f.write("end\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "big.trace.zst"
    proc = subprocess.Popen([str(heaplab_release.path), "convert", "--to", "binary", str(big), str(out)],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not any(".tmp-" in p.name for p in out_dir.iterdir()) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    if proc.returncode == 0:  # finished before the signal landed: nothing to check
        return
    assert proc.returncode == 130, err
    assert list(out_dir.iterdir()) == []
