"""guard as a program's overflow catcher (shim/fault.c): a read or write past a
block, before it (at=start) or into a freed one faults at the instruction and is
reported with the block's size, the offset and where the program was."""
import pytest

from run_support import programs  # noqa: F401 (a fixture)


def test_one_byte_past_a_4096_byte_block_is_an_overflow_at_offset_4096(heaplab_release, programs):
    proc = heaplab_release("run", "--backend", "guard", "--", programs / "misdeeds", "overflow")
    assert proc.returncode == 1, proc.stderr
    assert "OVERFLOW guard: after call 1: the program accessed offset 4096 of a 4096-byte block" in proc.stderr
    assert f"in {programs / 'misdeeds'} (" in proc.stderr  # the faulting instruction's object


def test_an_overflow_while_other_threads_allocate_is_still_named(heaplab_release, programs):
    """The report waits for the call in flight on another thread (shim/fault.c)."""
    for _ in range(3):
        proc = heaplab_release("run", "--backend", "guard", "--", programs / "misdeeds", "busy")
        assert proc.returncode == 1, proc.stderr
        assert "OVERFLOW guard: after call " in proc.stderr, proc.stderr
        assert "the program accessed offset 4096 of a 4096-byte block" in proc.stderr


@pytest.mark.parametrize("backend", ["guard", "guard:sample=1:quarantine=16"])
def test_a_read_after_free_is_a_use_after_free(heaplab_release, programs, backend):
    proc = heaplab_release("run", "--backend", backend, "--check", "--", programs / "misdeeds", "after")
    assert proc.returncode == 1, proc.stderr
    assert "USE_AFTER_FREE" in proc.stderr and "accessed byte 10 of a 100-byte block freed at call 2" in proc.stderr


def test_a_read_before_a_block_with_the_guard_page_first_is_an_underflow(heaplab_release, programs):
    proc = heaplab_release("run", "--backend", "guard:at=start", "--", programs / "misdeeds", "underflow")
    assert proc.returncode == 1, proc.stderr
    assert "UNDERFLOW guard:at=start: after call 1: the program accessed offset -1 of a 4096-byte block" in proc.stderr


def test_bins_has_no_guard_pages_and_says_nothing(heaplab_release, programs):
    proc = heaplab_release("run", "--backend", "bins", "--", programs / "misdeeds", "overflow")
    assert proc.returncode == 0 and "OVERFLOW" not in proc.stderr, proc.stderr


def test_a_fault_outside_the_backend_s_memory_is_the_program_s_own_crash(heaplab_release, programs):
    proc = heaplab_release("run", "--backend", "guard", "--", programs / "misdeeds", "null")
    assert proc.returncode == 1, proc.stderr
    assert "died of signal 11 (Segmentation fault)" in proc.stderr and "OVERFLOW" not in proc.stderr


def test_a_legal_write_that_faults_is_the_backend_s_access_fault(heaplab_release, programs, tmp_path):
    """A backend that leaves a live block read-only (tests/backends/plugin_protect.c):
    the program's first write into it is the backend's ACCESS_FAULT, with a reproducer
    written from inside the fault's handler."""
    proc = heaplab_release("run", "--backend", "./build/tests/plugin_protect.so", "--check", "--findings", tmp_path,
                           "--", programs / "misdeeds", "page")
    assert proc.returncode == 1, proc.stderr
    assert "DIVERGENCE plugin_protect.so: after call " in proc.stderr, proc.stderr
    assert ": ACCESS_FAULT: the program's access to byte 0 of live block id " in proc.stderr
    assert "(4096 bytes at 0x" in proc.stderr and "reproducer: " + str(tmp_path) in proc.stderr
    proc = heaplab_release("run", "--backend", "bins", "--check", "--", programs / "misdeeds", "page")
    assert proc.returncode == 0, proc.stderr
