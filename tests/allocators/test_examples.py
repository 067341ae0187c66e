"""Backends from outside the tree, as an allocator author points heaplab at their own
library: the malloc-style example (`malloc:ex_@build/examples/libexmalloc.so`) and the
contract plugin example (`./build/examples/libstack.so`), through replay, diff and
fuzz; a crash inside such a library is a finding (it always runs isolated); what a
library lacks is declared absent."""
import os
import subprocess

from conftest import ROOT, shipped_traces, write_trace  # noqa: F401

MALLOC = "malloc:ex_@build/examples/libexmalloc.so"
PLUGIN = "./build/examples/libstack.so"


def test_both_examples_replay_every_shipped_trace_clean(heaplab):
    proc = heaplab("replay", "-q", "--backends", f"{MALLOC},{PLUGIN}", "traces/")
    assert proc.returncode == 0, proc.stderr
    runs = 2 * len(shipped_traces())
    assert f"{runs} runs: {runs} clean, 0 divergent" in proc.stdout


def test_they_agree_with_the_references_in_lockstep_and_under_the_fuzzer(heaplab_release, tmp_path):
    proc = heaplab_release("diff", "--backends", f"bins,{MALLOC},{PLUGIN}", "traces/")
    assert proc.returncode == 0, proc.stderr
    proc = heaplab_release("fuzz", "--backends", f"bins,arena,{MALLOC},{PLUGIN}", "--seed", "3", "--runs", "500",
                           "-q", "--findings", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert " 500 execs in " in proc.stdout and "0 findings" in proc.stdout


def test_a_crash_inside_the_library_is_a_finding_not_the_end_of_heaplab(heaplab_release, tmp_path):
    env = dict(os.environ, EXMALLOC_CRASH_AFTER="5")
    run = lambda *args: subprocess.run([str(heaplab_release.path), *map(str, args)], cwd=ROOT, env=env,
                                       capture_output=True, text=True, timeout=300)
    # replay without --isolate: a library from outside runs isolated all the same
    proc = run("replay", "-q", "--findings", tmp_path / "r", "--backends", f"{MALLOC},bins", "traces/basic.trace")
    assert proc.returncode == 1
    assert f"DIVERGENCE {MALLOC}: traces/basic.trace:10: operation 4 (alloc): CRASH: " in proc.stderr
    assert "2 runs: 1 clean, 1 divergent" in proc.stdout  # heaplab went on to bins
    proc = run("fuzz", "--backends", MALLOC, "--seed", "1", "--runs", "50", "--keep-going", "-q",
               "--findings", tmp_path / "f")
    assert proc.returncode == 1 and f"DIVERGENCE {MALLOC}: input " in proc.stderr, proc.stderr
    assert f": CRASH: {MALLOC} died of signal 11" in proc.stderr
    assert " 50 execs in " in proc.stdout


def test_what_the_library_lacks_is_declared_absent(heaplab, tmp_path):
    lib = tmp_path / "libnoalign.so"
    subprocess.run(["gcc", "-std=c11", "-O1", "-fPIC", "-shared", "-DEXMALLOC_NO_ALIGNED_ALLOC", "-o", lib,
                    ROOT / "examples/malloc_lib/exmalloc.c"], check=True)
    trace = write_trace(tmp_path / "a.trace", "alloc 1 64 align=64\nalloc 2 64\nfree 2\nfree 1\n")
    without = heaplab("diff", "--backends", f"bins,malloc:ex_@{lib}", trace)
    assert without.returncode == 0 and "(1 ids retired: not served by every backend)" in without.stdout
    served = heaplab("diff", "--backends", f"bins,{MALLOC}", trace)
    assert served.returncode == 0 and "retired" not in served.stdout


def test_bad_external_specs_are_named(heaplab):
    cases = [
        ("malloc:ex_@./no/such/lib.so", "cannot load ./no/such/lib.so"),
        ("malloc:zz_@build/examples/libexmalloc.so", "does not export zz_malloc()"),
        ("malloc:ex_", "expected malloc:PREFIX@./libfoo.so"),
        ("./no/such/plugin.so", "cannot load plugin"),
        ("./build/examples/libexmalloc.so", "plugin does not export heaplab_backend()"),
    ]
    for spec, message in cases:
        proc = heaplab("replay", "--backends", spec, "traces/basic.trace")
        assert proc.returncode == 2 and message in proc.stderr, (spec, proc.stderr)
