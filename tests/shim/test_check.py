"""`heaplab run --check`: the shadow model on the lane the program's calls feed. A
backend that breaks the contract under a real program is a finding whose reproducer
replays to it; the program's own double or invalid free is a finding naming the call,
sent to every backend that declares the kind."""
import re

import pytest

from run_support import JSON, detecting, programs  # noqa: F401 (a fixture)


def reproducer(proc):
    m = re.search(r"reproducer: (\S+)", proc.stderr)
    assert m, proc.stderr
    return m.group(1)


def test_a_misaligned_block_is_an_alignment_finding_that_replays(heaplab_release, programs, tmp_path):
    proc = heaplab_release("run", "--backend", "./build/tests/plugin_misalign.so", "--check", "--findings", tmp_path,
                           "--", programs / "misdeeds", "clean")
    assert proc.returncode == 1, proc.stderr
    # its third block, one thread's third call: the same every run
    assert re.search(r"DIVERGENCE plugin_misalign.so: call 3 \(alloc\): ALIGNMENT: block id 3 at 0x[0-9a-f]+ is not "
                     r"aligned to 16", proc.stderr), proc.stderr
    path = reproducer(proc)
    assert path.startswith(str(tmp_path))
    again = heaplab_release("replay", "--findings", tmp_path, path)
    assert again.returncode == 1 and "ALIGNMENT" in again.stdout + again.stderr


def test_a_buggy_allocator_is_caught_where_its_bug_shows_and_reproduced(heaplab_release, tmp_path):
    """The first-fit library with its planted realloc bug, under the program that shrinks
    a block in place and frees around it (tests/data/run/shrink.c): OVERLAP at the
    allocation its broken free list serves over a live block; the fixed build runs clean."""
    import subprocess
    program = tmp_path / "shrink"
    subprocess.run(["gcc", "-O1", "-o", program, "tests/data/run/shrink.c"], check=True)
    proc = heaplab_release("run", "--backend", "malloc:ff_@./build/tests/libmalloc_firstfit.so", "--check",
                           "--findings", tmp_path, "--", program)
    assert proc.returncode == 1, proc.stderr
    assert re.search(r"DIVERGENCE libmalloc_firstfit.so: call \d+ \(alloc\): OVERLAP: block id \d+ at 0x[0-9a-f]+ "
                     r"\(1000 bytes\) overlaps live block id \d+", proc.stderr), proc.stderr
    again = heaplab_release("replay", "--findings", tmp_path, reproducer(proc))
    assert again.returncode == 1 and "OVERLAP" in again.stdout + again.stderr
    # without --check the overlap goes unseen until a later free walks the broken list
    proc = heaplab_release("run", "--backend", "malloc:ff_@./build/tests/libmalloc_firstfit.so", "--", program)
    assert proc.returncode == 1 and "CRASH: the backend died of signal 11" in proc.stderr, proc.stderr
    proc = heaplab_release("run", "--backend", "malloc:ff_@./build/tests/libmalloc_firstfit_fixed.so", "--check",
                           "--", program)
    assert proc.returncode == 0 and "880 of 880 bytes kept" in proc.stdout, proc.stderr


def test_without_check_the_same_run_has_no_reproducer(heaplab_release, programs, tmp_path):
    proc = heaplab_release("run", "--backend", "./build/tests/plugin_misalign.so", "--findings", tmp_path, "--",
                           programs / "misdeeds", "clean")
    assert "reproducer" not in proc.stderr and not list(tmp_path.iterdir())


@pytest.mark.parametrize("backend", ["bins", "arena", "guard", "caps", "wasm"])
def test_a_double_free_is_a_finding_on_every_backend(heaplab_release, programs, backend, tmp_path):
    proc = heaplab_release("run", "--backend", backend, "--check", "--findings", tmp_path, "--",
                           programs / "misdeeds", "double")
    assert proc.returncode == 1, proc.stderr
    assert f"MISUSE {backend}: call 3 (free): DOUBLE_FREE: the program freed 0x" in proc.stderr
    assert "block id 2 of 40 bytes already freed" in proc.stderr
    if backend in detecting(heaplab_release, "DOUBLE_FREE"):
        assert f"({backend} detected it: DOUBLE_FREE)" in proc.stderr
    else:
        assert f"{backend} does not declare DOUBLE_FREE: heaplab's table caught it" in proc.stderr
    text = open(reproducer(proc)).read()
    assert "free 2\ndouble_free 2\nend" in text


def test_every_backend_that_declares_double_free_detects_it(heaplab_release):
    assert set(detecting(heaplab_release, "DOUBLE_FREE")) >= {"bins", "guard", "caps", "wasm"}


def test_a_double_free_without_check_and_an_invalid_free(heaplab_release, programs):
    proc = heaplab_release("run", "--backend", "bins", "--", programs / "misdeeds", "double")
    assert proc.returncode == 1 and "DOUBLE_FREE: the program freed 0x" in proc.stderr, proc.stderr
    assert "freed at call 2" in proc.stderr
    proc = heaplab_release("run", "--backend", "caps", "--check", "--", programs / "misdeeds", "invalid")
    assert proc.returncode == 1, proc.stderr
    assert "MISUSE caps: call 2 (free): INVALID_POINTER" in proc.stderr and "is not a block it handed out" in proc.stderr


def test_a_clean_program_stays_clean_with_the_heap_checked_every_call(heaplab_release, programs):
    proc = heaplab_release("run", "--backend", "wasm", "--check-every", "1", "--", programs / "churn", "2", "3000")
    assert proc.returncode == 0 and "--check found nothing" in proc.stderr, proc.stderr


def test_a_program_that_changes_folder_still_reports_into_the_findings_named(heaplab_release, programs, tmp_path):
    proc = heaplab_release("run", "--backend", "bins", "--check", "--findings", "found", "--", "sh", "-c",
                           f"cd / && exec {programs / 'misdeeds'} double", cwd=tmp_path)
    assert proc.returncode == 1 and "DOUBLE_FREE" in proc.stderr, proc.stderr
    assert reproducer(proc).startswith(str(tmp_path / "found") + "/")
    assert list((tmp_path / "found").glob("run-bins-DOUBLE_FREE-*.trace"))
