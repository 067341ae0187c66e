"""Adding a backend = its file + one line in the list, and the conformance suite picks it
up: tests/backends/bins_copy.c is bins under another name, registered as conforming in
tests/backends/registry.c with one line and named nowhere else. The suite
(tests/allocators/test_conformance.c) must run it because it walks the registry."""
import subprocess

from conftest import ALL_BACKENDS, ROOT

CONFORMANCE = ROOT / "build/asan/tests/allocators/test_conformance"


def registry(heaplab_test):
    proc = heaplab_test("list", "--names")
    assert proc.returncode == 0, proc.stderr
    return dict(line.split() for line in proc.stdout.splitlines())


def test_the_suite_runs_a_backend_registered_with_one_line(heaplab_test):
    kinds = registry(heaplab_test)
    assert kinds.get("bins-copy") == "test-conforming"
    conforming = sorted(name for name, kind in kinds.items() if kind != "test")
    assert set(ALL_BACKENDS) <= set(conforming) and "bins-copy" in conforming
    # the suite, asked for the test backends that conform, must reach each in its walk
    # of the registry (a name it does not reach is a failure of the binary)
    asked = [name for name, kind in kinds.items() if kind == "test-conforming"]
    proc = subprocess.run([str(CONFORMANCE), *asked], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ran = [line.split(": ", 1)[1] for line in proc.stdout.splitlines() if line.startswith("conformance: ")]
    assert ran == asked


def test_the_suite_refuses_a_name_outside_its_walk():
    proc = subprocess.run([str(CONFORMANCE), "mutant-live-handout"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode != 0
    assert "mutant-live-handout: not a conforming backend of the registry" in proc.stderr
