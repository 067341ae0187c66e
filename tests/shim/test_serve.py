"""`heaplab run`: real programs served by each backend that can serve a whole process
(shim/serve.c, shim/preload.c): Python, sqlite3 building an index, a threaded program
that checks every block it gets, a program that forks, one that execs itself, and
`--record`, whose trace replays clean everywhere."""
import os
import re
import shutil

import pytest

from run_support import JSON, WHOLE_PROCESS, programs  # noqa: F401 (a fixture)


def served(proc):
    """The calls the summary line says were served."""
    m = re.search(r"(\d+) process(?:es)?, (\d+) calls served", proc.stderr)
    assert m, proc.stderr
    return int(m.group(1)), int(m.group(2))


def test_the_issue_s_command_prints_268890_and_exits_0(heaplab_release):
    proc = heaplab_release("run", "--backend", "bins", "--check", "--", "/usr/bin/python3", "-c", JSON)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "268890\n"
    assert "--check found nothing" in proc.stderr


@pytest.mark.parametrize("pymalloc", [True, False], ids=["pymalloc", "every-object"])
@pytest.mark.parametrize("backend", WHOLE_PROCESS)
def test_python(heaplab_release, backend, pymalloc):
    """As it runs by default (pymalloc takes objects up to 512 bytes from arenas it
    mallocs) and with every object through malloc."""
    env = dict(os.environ, **({} if pymalloc else {"PYTHONMALLOC": "malloc"}))
    proc = heaplab_release("run", "--backend", backend, "--check", "--", "/usr/bin/python3", "-c", JSON, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "268890\n"
    assert served(proc)[1] > (2000 if pymalloc else 400000)  # every object of the dicts went through the backend


SQL = """CREATE TABLE t(a INTEGER, b TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 40000)
INSERT INTO t SELECT x, printf('%08x', (x * 2654435761) % 4294967296) FROM c;
CREATE INDEX tb ON t(b);
SELECT count(*) FROM t WHERE b > '8';
PRAGMA integrity_check;
"""


@pytest.mark.skipif(not shutil.which("sqlite3"), reason="sqlite3 is installed by make deps")
@pytest.mark.parametrize("backend", WHOLE_PROCESS)
def test_sqlite3_builds_an_index(heaplab_release, backend):
    plain = __import__("subprocess").run(["sqlite3", ":memory:"], input=SQL, capture_output=True, text=True)
    proc = heaplab_release("run", "--backend", backend, "--check", "--", "sqlite3", ":memory:", input=SQL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == plain.stdout and proc.stdout.endswith("ok\n")
    assert served(proc)[1] > 100000


@pytest.mark.parametrize("backend", WHOLE_PROCESS + ["guard"])
def test_four_threads_check_every_block_they_get(heaplab_release, programs, backend):
    proc = heaplab_release("run", "--backend", backend, "--check", "--", programs / "churn", "4", "20000")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every block checked" in proc.stdout
    assert served(proc)[1] > 100000


def test_a_forked_child_goes_on_with_its_copy_and_an_exec_gets_a_fresh_instance(heaplab_release, programs):
    proc = heaplab_release("run", "--backend", "bins", "--check", "--", programs / "forks")
    assert proc.returncode == 0, proc.stderr
    assert served(proc)[0] == 2  # the parent and the child each reported
    proc = heaplab_release("run", "--backend", "wasm", "--check", "--", programs / "reexec", "2", "/usr/bin/python3",
                           "-c", "print(6 * 7)")
    assert proc.returncode == 0 and proc.stdout == "42\n", proc.stderr
    assert served(proc)[1] > 1000  # the Python at the end was served


@pytest.mark.parametrize("backend", WHOLE_PROCESS + ["malloc:ex_@./build/examples/libexmalloc.so"])
def test_blocks_from_the_real_malloc_go_back_to_it(heaplab_release, programs, backend):
    """As blocks from before the shim took over: free, realloc and malloc_usable_size of
    a block glibc's own malloc served reach glibc's, never the backend."""
    proc = heaplab_release("run", "--backend", backend, "--check", "--", programs / "misdeeds", "real")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("backend", ["jemalloc", "./build/examples/libstack.so",
                                     "malloc:ex_@./build/examples/libexmalloc.so"])
def test_libraries_serve_too(heaplab_release, backend):
    proc = heaplab_release("run", "--backend", backend, "--check", "--", "/usr/bin/python3", "-c", JSON)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "268890\n"


def test_record_writes_a_trace_that_replays_clean_on_every_backend(heaplab_release, programs, tmp_path):
    out = tmp_path / "churn.trace"
    proc = heaplab_release("run", "--backend", "guard:sample=4", "--record", out, "--", programs / "churn", "3", "3000")
    assert proc.returncode == 0, proc.stderr
    assert f"recorded {out}: " in proc.stderr and "4 threads" in proc.stderr
    ops = served(proc)[1]
    assert f"{ops} operations" in proc.stderr  # the recorder saw every call the shim served
    # mimalloc's known bug (README "Peers") is on the aligned_alloc calls
    proc = heaplab_release("replay", "-q", "--backends", "all", "--ignore", "ALIGNMENT@mimalloc", "--findings",
                           tmp_path, out)
    assert proc.returncode == 0 and re.search(r"(\d+) runs: ", proc.stdout), proc.stdout + proc.stderr
    assert "divergent" not in proc.stdout.replace("0 divergent", ""), proc.stdout
