"""`heaplab record`: real programs run with the recorder preloaded, their traces replay
clean on every backend: a Python script, a threaded program with cross-thread frees,
one that forks, one that aborts, one that execs itself twice in one process, and each
wrapped call once, including the ones that fail or do nothing."""
import subprocess

import pytest

from conftest import ROOT

DATA = ROOT / "tests/data/record"


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    out = tmp_path_factory.mktemp("programs")
    for name in ("threads", "forks", "aborts", "calls", "reexec"):
        subprocess.run(["gcc", "-O1", "-w", "-pthread", "-o", out / name, DATA / f"{name}.c"], check=True)
    return out


def ops(path):
    return [l for l in path.read_text().splitlines() if l and l[0] != "#" and not l.startswith("heaplab-trace")]


def test_a_python_script_records_and_replays_clean_everywhere(heaplab_release, tmp_path):
    out = tmp_path / "py.trace"
    proc = heaplab_release("record", "-o", out, "--", "/usr/bin/python3", "-c",
                           "import json; json.dumps(list(range(100000)))")
    assert proc.returncode == 0, proc.stderr
    assert f"recorded {out}: " in proc.stdout and "/usr/bin/python3 exited with status 0" in proc.stdout
    assert "#@program=/usr/bin/python3 -c import json" in out.read_text()
    assert len(ops(out)) > 1000 and ops(out)[-1] == "end"
    proc = heaplab_release("replay", "-q", "--backends", "all", out)
    assert proc.returncode == 0 and "10 runs: 10 clean" in proc.stdout, proc.stderr


def test_the_summary_names_the_busiest_process_a_shim_and_python_s_own_allocator(heaplab_release, tmp_path):
    """A program behind a shell shim: the summary names the trace that holds the
    program's work and says the shim did little itself; Python recorded without
    PYTHONMALLOC=malloc is told how to see every object, and with it is not."""
    shim = tmp_path / "python3"
    shim.write_text('#!/bin/sh\nfor i in 1 2 3; do true | cat > /dev/null; done\nexec /usr/bin/python3 "$@"\n')
    shim.chmod(0o755)
    out = tmp_path / "shim.trace"
    proc = heaplab_release("record", "-o", out, "--", "sh", "-c",
                           f"{shim} -c 'import json; json.dumps(list(range(10000)))'; true")
    assert proc.returncode == 0, proc.stderr
    busiest = [l for l in proc.stdout.splitlines() if l.startswith("the busiest process: ")]
    assert len(busiest) == 1 and "/usr/bin/python3 -c import json" in busiest[0], proc.stdout
    path = busiest[0].split()[3]
    assert f"#@program=/usr/bin/python3 -c import json" in open(path).read()
    assert "note: sh itself made " in proc.stdout and "a script or a shim" in proc.stdout, proc.stdout
    assert "record with PYTHONMALLOC=malloc" in proc.stdout.replace("Record", "record"), proc.stdout
    # told that every object goes through malloc: no note about it
    out = tmp_path / "every.trace"
    proc = heaplab_release("record", "-o", out, "--", "env", "PYTHONMALLOC=malloc", "/usr/bin/python3", "-c",
                           "import json")
    assert proc.returncode == 0 and "PYTHONMALLOC" not in proc.stdout, proc.stdout
    assert any("#@env.pythonmalloc=malloc" in p.read_text() for p in tmp_path.glob("every.trace*"))
    # one process alone: nothing to point at
    proc = heaplab_release("record", "-o", tmp_path / "one.trace", "--", "true")
    assert proc.returncode == 0 and "busiest" not in proc.stdout and "note:" not in proc.stdout, proc.stdout


def test_threads_keep_their_ids_and_cross_thread_frees_replay(heaplab_release, programs, tmp_path):
    out = tmp_path / "t.trace"
    proc = heaplab_release("record", "-o", out, "--", programs / "threads")
    assert proc.returncode == 0 and " operations, 5 threads" in proc.stdout, proc.stdout + proc.stderr
    threads = {l.split(" t=")[1] for l in ops(out) if " t=" in l}
    assert len(threads) == 5  # main and four workers
    assert heaplab_release("replay", "-q", "--backends", "all", out).returncode == 0


def test_a_forked_child_writes_its_own_trace_opening_with_the_inherited_blocks(heaplab_release, programs, tmp_path):
    out = tmp_path / "f.trace"
    proc = heaplab_release("record", "-o", out, "--", programs / "forks")
    assert proc.returncode == 0, proc.stderr
    children = sorted(tmp_path.glob("f.trace.*"))
    assert len(children) == 1
    child = ops(children[0])
    inherited = [l for l in child if l.startswith("alloc ")][:10]
    assert len(inherited) == 10 and all(l.split()[2] in {str(100 + i) for i in range(10)} for l in inherited)
    assert sum(l.startswith("free ") for l in child) == 6  # five inherited, one of its own
    for trace in (out, children[0]):
        assert heaplab_release("replay", "-q", "--backends", "all", trace).returncode == 0
    proc = heaplab_release("record", "--no-forks", "-o", tmp_path / "n.trace", "--", programs / "forks")
    assert proc.returncode == 0 and not list(tmp_path.glob("n.trace.*"))


def test_a_program_that_aborts_leaves_every_record_up_to_its_death(heaplab_release, programs, tmp_path):
    out = tmp_path / "a.trace"
    proc = heaplab_release("record", "-o", out, "--", programs / "aborts")
    assert proc.returncode == 0, proc.stderr
    assert "died of signal 6" in proc.stdout and "did not exit normally" in proc.stdout
    lines = ops(out)
    assert lines[-1] != "end" and sum(l.startswith("alloc ") for l in lines) >= 1000
    replay = heaplab_release("replay", "-q", "--backends", "all", out)
    assert replay.returncode == 0 and "cut tail" in replay.stderr


def test_each_image_exec_d_in_one_process_gets_its_own_numbered_file(heaplab_release, programs, tmp_path):
    out = tmp_path / "x.trace"
    proc = heaplab_release("record", "-o", out, "--", programs / "reexec", "1", "/usr/bin/python3", "-c",
                           "import json; json.dumps(list(range(1000)))")
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in tmp_path.glob("x.trace*"))
    assert len(names) == 3 and names[0] == "x.trace"
    pid = names[1].split(".")[2]
    assert names[1:] == [f"x.trace.{pid}.1", f"x.trace.{pid}.2"]
    assert "#@program=/usr/bin/python3 -c import json" in (tmp_path / f"x.trace.{pid}.2").read_text()
    for name in names:
        assert heaplab_release("replay", "-q", "--backends", "bins,libc", tmp_path / name).returncode == 0


def test_each_call_is_recorded_as_what_it_did(heaplab_release, programs, tmp_path):
    out = tmp_path / "c.trace"
    assert heaplab_release("record", "-o", out, "--", programs / "calls").returncode == 0
    lines = [l.split(" t=")[0] for l in ops(out)]
    text = "\n".join(lines)
    assert " 18446744073709551615 fail=OUT_OF_MEMORY" in text  # calloc overflow, saturated
    assert "align=64" in text and "usable " in text  # posix_memalign, malloc_usable_size
    assert "align=256" in text and "align=128" in text and "align=4096" in text  # aligned_alloc, memalign, valloc
    assert "realloc " in text and "fail=OUT_OF_MEMORY" in text.split("align=64")[1]  # reallocarray overflow
    # every backend but mimalloc, whose aligned_alloc(256, ...) misaligns (conftest.PEER_FINDINGS)
    assert heaplab_release("replay", "-q", "--backends", "refs,libc,jemalloc,tcmalloc", out).returncode == 0
    proc = heaplab_release("replay", "-q", "--backends", "mimalloc", "--findings", tmp_path / "f", out)
    assert proc.returncode == 1 and "ALIGNMENT" in proc.stderr and "aligned to 256" in proc.stderr


def test_bad_usage(heaplab_release, tmp_path):
    assert heaplab_release("record", "--", "/bin/true").returncode == 2
    assert heaplab_release("record", "-o", tmp_path / "x").returncode == 2
    proc = heaplab_release("record", "-o", tmp_path / "x", "--", tmp_path / "no-such-program")
    assert proc.returncode == 2 and "cannot run" in proc.stderr
    assert heaplab_release("record", "--help").returncode == 0
