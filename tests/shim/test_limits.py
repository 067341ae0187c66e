"""A backend's limit reached under a real program (shim/serve.c): a message naming
the limit and the program ended (exit 2), not a crash; --on-limit null hands the
program NULL instead, as a malloc out of memory does."""
from run_support import programs  # noqa: F401 (a fixture)


def test_guard_s_capacity(heaplab_release, programs):
    proc = heaplab_release("run", "--backend", "guard", "--", programs / "misdeeds", "many", "10000")
    assert proc.returncode == 2, proc.stderr
    assert "LIMIT guard: call " in proc.stderr and "refused with CAPACITY: its capacity of " in proc.stderr
    assert "guard:sample=N" in proc.stderr and "was ended by heaplab" in proc.stderr
    proc = heaplab_release("run", "--backend", "guard:sample=8", "--", programs / "misdeeds", "many", "10000")
    assert proc.returncode == 0, proc.stderr


def test_wasm_s_max_pages(heaplab_release, programs):
    proc = heaplab_release("run", "--backend", "wasm:max_pages=16", "--", programs / "misdeeds", "big", "2")
    assert proc.returncode == 2, proc.stderr
    assert "LIMIT wasm:max_pages=16: call 1: malloc(1048576 bytes, align 16) refused with OUT_OF_MEMORY" in proc.stderr
    assert "wasm:max_pages=N raises it" in proc.stderr
    proc = heaplab_release("run", "--backend", "wasm:max_pages=16", "--on-limit", "null", "--",
                           programs / "misdeeds", "big", "2")
    assert proc.returncode == 1 and "malloc returned NULL after 0 MiB" in proc.stdout, proc.stderr
    assert "exited with status 3" in proc.stderr


def test_a_static_buffer(heaplab_release, programs):
    proc = heaplab_release("run", "--backend", "bins:source=static:size=1M", "--", programs / "misdeeds", "big", "2")
    assert proc.returncode == 2 and "its static buffer is full" in proc.stderr, proc.stderr


def test_a_request_larger_than_the_machine_gets_null_as_from_glibc(heaplab_release):
    proc = heaplab_release("run", "--backend", "bins", "--", "/usr/bin/python3", "-c",
                           "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.malloc.restype = ctypes.c_void_p\n"
                           "libc.malloc.argtypes = [ctypes.c_size_t]\nprint(libc.malloc(1 << 60))")
    assert proc.returncode == 0 and proc.stdout == "None\n", proc.stderr
