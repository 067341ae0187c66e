"""Code loaded by path from outside the tree never runs in the driver's own process
(run/spec.c probes it in an isolated child): a plugin whose constructor crashes, hangs
or exits, or whose table is all NULL, gets an exit-2 message and never ends or blocks
heaplab; a plugin that misaligns a block and then crashes on every free is reported
(ALIGNMENT) by a plain replay, reproducer included, and heaplab goes on."""
import os

import pytest

from conftest import write_trace

PLUGIN = "./build/tests/plugin_{}.so"


@pytest.mark.parametrize("name, how", [
    ("ctor_crash", "its code died of signal 11 (Segmentation fault)"),
    ("ctor_exit", "its code ended its process (exit status 0) before the run was over"),
    ("ctor_hang", "its code made no progress for 10.0 s and was killed"),
])
def test_a_plugin_whose_constructor_misbehaves_is_refused(heaplab_release, name, how):
    for command in (["replay"], ["diff", "--backends", "bins"], ["fuzz", "--runs", "5", "-q", "--backends", "bins"]):
        args = [*command[:1], "--backends", f"{PLUGIN.format(name)}" + (",bins" if len(command) > 1 else ""),
                *[a for a in command[1:] if a not in ("--backends", "bins")]]
        if command[0] != "fuzz":
            args.append("traces/basic.trace")
        proc = heaplab_release(*args, timeout=120)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert f"backend '{PLUGIN.format(name)}': loading it and making an instance went wrong" in proc.stderr
        assert how in proc.stderr, proc.stderr
        assert "nothing of it ran in heaplab" in proc.stderr
        if name == "ctor_hang":
            break  # one 10 s probe is enough


def test_a_plugin_with_a_table_of_null_entry_points_is_refused(heaplab):
    proc = heaplab("replay", "--backends", PLUGIN.format("null_table"), "traces/basic.trace")
    assert proc.returncode == 2
    assert "the plugin's table has no create (a mandatory entry point is NULL)" in proc.stderr


def test_a_plugin_that_misaligns_then_crashes_is_a_finding_and_heaplab_survives(heaplab_release, tmp_path):
    trace = write_trace(tmp_path / "four.trace", "".join(f"alloc {i} 40 align=16\n" for i in range(1, 5)))
    findings = tmp_path / "f"
    proc = heaplab_release("replay", "--findings", findings, "--backends", f"{PLUGIN.format('misalign')},bins", trace)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # named by its label: the library's file name
    assert f"DIVERGENCE plugin_misalign.so: {trace}:4: operation 2 (alloc): ALIGNMENT: " in proc.stderr
    assert "2 runs: 1 clean, 1 divergent" in proc.stdout  # and heaplab went on to bins
    repro = list(findings.glob("*.ALIGNMENT.trace"))
    assert len(repro) == 1, proc.stderr
    again = heaplab_release("replay", "--findings", tmp_path / "g", "--backends", PLUGIN.format("misalign"), repro[0])
    assert again.returncode == 1 and ": ALIGNMENT: " in again.stderr


def test_a_constructor_that_writes_a_file_is_refused_by_the_sandbox(heaplab_release, tmp_path):
    """The filter is in place before the library loads: its constructor's write is the
    finding SANDBOX, and the file is not created."""
    target = tmp_path / "made-by-constructor"
    proc = heaplab_release("replay", "--backends", PLUGIN.format("ctor_write"), "traces/basic.trace",
                           env=dict(os.environ, PLUGIN_WRITE_TO=str(target)))
    assert proc.returncode == 2, proc.stderr
    assert f'went wrong, SANDBOX: while its instance was made: its code made system call openat "{target}"' \
        in proc.stderr, proc.stderr
    assert not target.exists()
