"""`heaplab record` on a full or unwritable disk: a small tmpfs (conftest.small_disk) that
fills up while the program runs stops the recording, never the program: it exits 0 with
its normal output, every trace is a valid cut trace holding exactly the calls made
before the disk filled and ending with a line saying why, the recorder says so on
stderr and the summary too (exit 2: the trace is not the whole run). An -o that cannot
be written (a folder, a read-only disk, a missing folder, a full disk) writes nothing,
does not start the program, and says which path and why (exit 2)."""
import os
import resource
import subprocess

import pytest

from conftest import ROOT

DATA = ROOT / "tests/data/record"
LIBRARY = ROOT / "build/libheaplab-record.so"
STOPPED = "# recording stopped here: the disk was full (No space left on device); the program ran on unrecorded"


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    out = tmp_path_factory.mktemp("programs")
    for name in ("fills", "threads"):
        subprocess.run(["gcc", "-O1", "-w", "-pthread", "-o", out / name, DATA / f"{name}.c"], check=True)
    return out


def ops(path):
    return [l for l in path.read_text().splitlines() if l and l[0] != "#" and not l.startswith("heaplab-trace")]


def assert_stopped(heaplab, path, proc):
    """path is a valid cut trace that ends with the STOPPED line, and both the recorder
    and the summary said so."""
    text = path.read_text()
    assert text.endswith(STOPPED + "\n") and "\0" not in text
    count = len(ops(path))
    assert f"heaplab record: {path}: recording stopped after {count} operations: the disk was full " \
           "(No space left on device); the program runs on unrecorded" in proc.stderr
    assert f"recorded {path}: {count} operations, " in proc.stdout
    assert "then recording stopped early: the disk was full (No space left on device)" in proc.stdout
    check = heaplab("validate", path)
    assert check.returncode == 0 and f"ok ({count} operations, text form, cut tail)" in check.stdout, check.stderr
    return count


def test_a_python_script_on_a_full_disk_runs_on_and_keeps_a_valid_cut_trace(heaplab_release, small_disk):
    disk = small_disk.full(64)
    out = disk / "py.trace"
    # PYTHONMALLOC=malloc: every object is a call (about 2.7 MB of trace, 40 times the disk)
    proc = heaplab_release("record", "-o", out, "--", "/usr/bin/python3", "-c",
                           "import json; print('length', len(json.dumps(list(range(100000)))))",
                           env={**os.environ, "PYTHONMALLOC": "malloc"})
    assert proc.returncode == 2 and "length 688890" in proc.stdout, proc.stdout + proc.stderr
    assert "/usr/bin/python3 exited with status 0" in proc.stdout
    assert "recording stopped early in 1 of 1 trace" in proc.stderr
    assert assert_stopped(heaplab_release, out, proc) > 1000
    assert sorted(p.name for p in disk.iterdir()) == ["py.trace"]
    replay = heaplab_release("replay", "-q", "--backends", "bins,libc", out)
    assert replay.returncode == 0 and "cut tail" in replay.stderr


def expected_calls(count):
    """What fills.c records in either process: the block live at the fork, then its
    pairs (ids from 2, pair i of 16 + i % 200 bytes)."""
    calls = ["alloc 1 100 t=0"]
    for i in range(count):
        calls += [f"alloc {2 + i} {16 + i % 200} t=0", f"free {2 + i} t=0"]
    return calls[:count]


def test_a_parent_and_its_forked_child_each_stop_recording_and_run_on_kept_as_text(heaplab_release, programs, small_disk):
    disk = small_disk.full(1024)
    out = disk / "f.trace"
    proc = heaplab_release("record", "--binary", "-o", out, "--", programs / "fills", "100000")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.count("(kept as text, which says so)") == 2  # binary would end it as complete
    assert "child made 100000 pairs" in proc.stdout and "parent made 100000 pairs" in proc.stdout
    assert "fills exited with status 0" in proc.stdout
    children = sorted(disk.glob("f.trace.*"))
    assert len(children) == 1 and "recording stopped early in 2 of 2 traces" in proc.stderr
    for trace in (out, children[0]):
        count = assert_stopped(heaplab_release, trace, proc)
        assert count > 10000 and ops(trace) == expected_calls(count)  # exactly the calls before the disk filled


def test_a_file_size_limit_stops_recording_without_the_signal_that_would_end_the_program(heaplab_release, programs,
                                                                                           tmp_path):
    """Past RLIMIT_FSIZE the kernel ends a process with SIGXFSZ: the recorder does not
    try to grow its file past it. (64 KiB a file: the parent's and the child's each.)"""
    out = tmp_path / "l.trace"

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, 64 << 10))

    proc = subprocess.run([heaplab_release.path, "record", "-o", out, "--", programs / "fills", "100000"],
                          capture_output=True, text=True, preexec_fn=limit)
    assert proc.returncode == 2 and "fills exited with status 0" in proc.stdout, proc.stdout + proc.stderr
    assert "child made 100000 pairs" in proc.stdout and "parent made 100000 pairs" in proc.stdout
    for trace in [out] + list(tmp_path.glob("l.trace.*")):
        assert trace.read_text().endswith("# recording stopped here: the file size limit was reached (File too large)"
                                          "; the program ran on unrecorded\n")
        count = len(ops(trace))
        assert f"recording stopped after {count} operations: the file size limit was reached" in proc.stderr
        assert count > 1000 and ops(trace) == expected_calls(count)
    assert proc.stdout.count("then recording stopped early: the file size limit was reached (File too large)") == 2


def test_threads_on_a_full_disk_stop_recording_at_a_whole_record(heaplab_release, programs, small_disk):
    disk = small_disk.full(64)
    out = disk / "t.trace"
    proc = heaplab_release("record", "-o", out, "--", programs / "threads")
    assert proc.returncode == 2 and "threads exited with status 0" in proc.stdout, proc.stdout + proc.stderr
    assert assert_stopped(heaplab_release, out, proc) > 1000
    assert heaplab_release("replay", "-q", "--backends", "bins,libc", out).returncode == 0


def unwritable_outputs(small_disk, tmp_path):
    full = small_disk.full(64)
    fd = os.open(full / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"x" * 4096):  # up to the last block
            pass
    except OSError:
        pass
    os.close(fd)
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    return [
        (tmp_path / "folder", "Is a directory"),
        (f"{tmp_path / 'folder'}/", "Is a directory"),
        (small_disk.read_only() / "x.trace", "Read-only file system"),
        (tmp_path / "missing" / "x.trace", "No such file or directory"),
        (tmp_path / "file" / "x.trace", "Not a directory"),
        (full / "x.trace", "No space left on device"),
    ]


def listing(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_an_output_that_cannot_be_written_writes_nothing_and_starts_nothing(heaplab_release, small_disk, tmp_path):
    cases = unwritable_outputs(small_disk, tmp_path)
    before = listing(tmp_path)
    for out, why in cases:
        marker = tmp_path / "started"
        proc = heaplab_release("record", "-o", out, "--", "/bin/sh", "-c", f"touch {marker}")
        assert proc.returncode == 2, (out, proc.stdout, proc.stderr)
        assert f"heaplab: {out}: cannot write: {why} (" in proc.stderr, (out, proc.stderr)
        assert "/bin/sh not started" in proc.stderr and "recorded" not in proc.stdout
        assert listing(tmp_path) == before, out  # nothing written, the program not run


def test_the_recorder_never_takes_another_name_when_it_cannot_create_its_own(small_disk, tmp_path):
    """The preload alone (as `heaplab record` runs it, without its checks first): a
    folder or a read-only disk under the name, and the process records nothing, says
    why and runs on; an earlier image's own trace (exec keeps the pid) still moves the
    next image to OUT.<pid>.1."""
    folder = tmp_path / "folder"
    folder.mkdir()
    for out, why in ((folder, "Is a directory"), (small_disk.read_only() / "x.trace", "Read-only file system")):
        proc = subprocess.run(["/bin/sh", "-c", 'exec env HEAPLAB_RECORD_ROOT=$$ "$@"', "sh",
                               f"HEAPLAB_RECORD_OUT={out}", f"LD_PRELOAD={LIBRARY}", "/bin/echo", "ran"],
                              capture_output=True, text=True)
        assert proc.returncode == 0 and proc.stdout == "ran\n"
        assert f"heaplab record: {out}: cannot create it: {why}; this process is not recorded" in proc.stderr
        assert not list(out.parent.glob(out.name + ".*")) and not list(folder.iterdir())
    out = tmp_path / "x.trace"
    proc = subprocess.run(["/bin/sh", "-c", 'exec env HEAPLAB_RECORD_ROOT=$$ "$@"', "sh", f"HEAPLAB_RECORD_OUT={out}",
                           f"LD_PRELOAD={LIBRARY}", "/bin/sh", "-c", "exec /bin/true"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""
    names = sorted(p.name for p in tmp_path.glob("x.trace*"))
    assert len(names) == 2 and names[1].startswith("x.trace.") and names[1].endswith(".1")
