"""Backends from outside the tree, as an allocator author points heaplab at their own
library: the malloc-style example (`malloc:ex_@build/examples/libexmalloc.so`) and the
contract plugin example (`./build/examples/libstack.so`), through replay, diff and
fuzz; a crash inside such a library is a finding (it always runs isolated); what a
library lacks is declared absent."""
import json
import os
import subprocess

from conftest import ROOT, shipped_traces, write_trace  # noqa: F401

MALLOC = "malloc:ex_@build/examples/libexmalloc.so"
LABEL = "libexmalloc.so"  # a library's label: its file name (name=LABEL sets another)
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
    assert f"DIVERGENCE {LABEL}: traces/basic.trace:10: operation 4 (alloc): CRASH: " in proc.stderr
    assert "2 runs: 1 clean, 1 divergent" in proc.stdout  # heaplab went on to bins
    proc = run("fuzz", "--backends", MALLOC, "--seed", "1", "--runs", "50", "--keep-going", "-q",
               "--findings", tmp_path / "f")
    assert proc.returncode == 1 and f"DIVERGENCE {LABEL}: input " in proc.stderr, proc.stderr
    assert f": CRASH: {LABEL} died of signal 11" in proc.stderr
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


def _exmalloc(tmp_path, name, *flags):
    lib = tmp_path / name
    subprocess.run(["gcc", "-std=c11", "-O1", "-fPIC", "-shared", *flags, "-o", lib,
                    ROOT / "examples/malloc_lib/exmalloc.c"], check=True)
    return lib


def test_a_library_gets_the_alignment_c_promises_not_more(heaplab, tmp_path):
    """tc_malloc(4) is 8-aligned, as C promises for 4 bytes: `alloc 4 align=16` must go
    to the aligned entry, not be judged against a 16-byte promise (a false ALIGNMENT)."""
    trace = write_trace(tmp_path / "a.trace", "alloc 1 4 align=16\nalloc 2 4\nalloc 3 24 align=16\n"
                                              "realloc 2 2 \nrealloc 3 4\nfree 1\nfree 2\nfree 3\n")
    for spec in ("malloc:tc_@libtcmalloc_minimal.so.4", MALLOC,
                 f"malloc:ex_@{_exmalloc(tmp_path, 'libnoalign.so', '-DEXMALLOC_NO_ALIGNED_ALLOC')}"):
        proc = heaplab("replay", "--backends", spec, trace)
        assert proc.returncode == 0 and "1 runs: 1 clean" in proc.stdout, spec + proc.stdout + proc.stderr


def test_a_library_is_labelled_by_its_file_or_its_name(heaplab, tmp_path):
    proc = heaplab("replay", "--json", "--backends",
                   f"{MALLOC},malloc:tc_@libtcmalloc_minimal.so.4:name=tc", "traces/basic.trace")
    assert proc.returncode == 0, proc.stderr
    assert [r["backend"] for r in json.loads(proc.stdout)["results"]] == [LABEL, "tc"]
    bad = heaplab("replay", "--backends", f"{MALLOC}:name", "traces/basic.trace")
    assert bad.returncode == 2 and "option 'name' is not key=value" in bad.stderr
    bad = heaplab("replay", "--backends", f"{MALLOC}:colour=red", "traces/basic.trace")
    assert bad.returncode == 2 and "colour" in bad.stderr


def test_a_footprint_is_measured_only_through_the_library_hook(heaplab, tmp_path):
    bare = _exmalloc(tmp_path, "libbare.so", "-DEXMALLOC_NO_HOOKS")
    proc = heaplab("replay", "--json", "--backends", f"{MALLOC},malloc:ex_@{bare}", "traces/basic.trace")
    hooked, without = json.loads(proc.stdout)["results"]
    assert hooked["peak_footprint_bytes"] >= 1 << 20 and hooked["fragmentation"]["peak_to_peak"] >= 1
    assert without["peak_footprint_bytes"] is None and without["fragmentation"] is None  # never live bytes
    table = heaplab("replay", "--backends", f"malloc:ex_@{bare}", "traces/basic.trace").stdout
    assert " n/m " in table


def test_check_and_reset_hooks_are_used(heaplab, tmp_path):
    # free_all ends with ex_reset: every chunk unmapped, the footprint back to 0
    trace = write_trace(tmp_path / "r.trace", "alloc 1 100\nalloc 2 5000\nfree_all\nalloc 3 10\nfree 3\n")
    proc = heaplab("replay", "--json", "--backends", MALLOC, trace)
    r = json.loads(proc.stdout)["results"][0]
    assert r["divergences"] == 0 and r["final_footprint_bytes"] == 1 << 20  # one chunk again after the reset
    bare = _exmalloc(tmp_path, "libbare2.so", "-DEXMALLOC_NO_HOOKS")
    broken = tmp_path / "broken.c"
    broken.write_text('#include <stddef.h>\nconst char *ex_check(void);\n'
                      'const char *ex_check(void) { return "ex_check: planted"; }\n')
    lib = tmp_path / "libbroken.so"
    subprocess.run(["gcc", "-O1", "-fPIC", "-shared", "-o", lib, ROOT / "examples/malloc_lib/exmalloc.c", broken,
                    "-DEXMALLOC_NO_HOOKS"], check=True)
    proc = heaplab("replay", "--backends", f"malloc:ex_@{lib},malloc:ex_@{bare}", "traces/basic.trace")
    assert proc.returncode == 1 and "CHECK_FAILED" in proc.stderr and "ex_check: planted" in proc.stderr
    assert "2 runs: 1 clean, 1 divergent" in proc.stdout


def test_thread_safe_is_what_the_spec_declares(heaplab):
    tc = "malloc:tc_@libtcmalloc_minimal.so.4"
    proc = heaplab("replay", "--threads", "--backends", f"{tc}:name=plain,{tc}:thread_safe=1:name=safe",
                   "traces/threads.trace")
    assert proc.returncode == 0, proc.stderr
    assert "threads plain: traces/threads.trace serialised" in proc.stderr
    assert "threads safe: traces/threads.trace on " in proc.stderr
