"""The wasm-v8 backend: the real module in V8 (a Node.js process per instance, driven
over a socket by allocators/wasm/v8_runner.mjs) agrees with the native core and the
wasm2c translation offset for offset, error for error and page for page; a module
linked with another heap base is caught; a runner that cannot start or that dies is a
clear error or a finding, never the end of heaplab."""
import re
import subprocess

import pytest

from conftest import ROOT
from test_wasm_module import generated_trace

BASE2048 = ROOT / "build" / "tests" / "heaplab-alloc-base2048.min.wasm"
SCRIBBLE = ROOT / "build" / "tests" / "heaplab-alloc-scribble.min.wasm"
LEAN = ROOT / "build" / "heaplab-alloc-lean.min.wasm"


@pytest.fixture(scope="module")
def built():
    proc = subprocess.run(["make", "-s", "wasm", str(BASE2048.relative_to(ROOT)), str(SCRIBBLE.relative_to(ROOT))],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def agreed(out):
    return re.findall(r"(\d+) backends agree on (\d+) operations \((\d+) offsets compared\)", out)


def test_listed_but_run_only_when_named(heaplab, built):
    out = heaplab("list").stdout
    assert re.search(r"^wasm-v8\s+reference\s", out, re.M), out
    proc = heaplab("replay", "--no-speed", "--backends", "all", "traces/basic.trace")
    assert "wasm-v8" not in proc.stdout


def test_three_engines_agree_on_every_shipped_trace(heaplab_release, built, tmp_path):
    proc = heaplab_release("diff", "--findings", tmp_path, "--backends", "wasm,wasm-module,wasm-v8", "traces/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = agreed(proc.stdout)
    assert len(rows) >= 10 and all(n == "3" for n, _, _ in rows), proc.stdout
    assert sum(int(ops) for _, ops, _ in rows) > 900_000


def test_three_engines_agree_on_a_generated_100k_trace(heaplab_release, built, tmp_path):
    trace = generated_trace(tmp_path / "gen.trace")
    proc = heaplab_release("diff", "--findings", tmp_path, "--backends", "wasm,wasm-module,wasm-v8", trace)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [(n, ops, offsets)] = agreed(proc.stdout)
    assert n == "3" and int(ops) >= 99_000 and int(offsets) >= 40_000, proc.stdout


def test_replay_runs_the_small_traces_clean(heaplab, built, tmp_path):
    """Under the shadow model alone (the real traces run in the three-engine diff)."""
    traces = sorted(str(t) for t in (ROOT / "traces").glob("*.trace"))
    proc = heaplab("replay", "--no-speed", "--findings", tmp_path, "--backends", "wasm-v8", *traces)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(traces)} runs: {len(traces)} clean" in proc.stdout, proc.stdout


def test_a_module_with_another_heap_base_is_caught(heaplab, built, tmp_path):
    spec = f"wasm-v8:module={BASE2048}"
    proc = heaplab("diff", "--findings", tmp_path, "--backends", f"wasm,{spec}", "traces/basic.trace")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"operation 0 \(alloc\): OFFSET_DIFFERS: alloc of block id 1: wasm hands out offset 0xe00, "
                     r"wasm-v8\S* 0x1200", proc.stderr), proc.stderr


def test_a_runner_that_cannot_start_is_a_clear_error(heaplab, built, tmp_path):
    proc = heaplab("replay", "--backends", "wasm-v8:node=/nonexistent/node", "traces/basic.trace")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot run node" in proc.stderr and "the V8 runner did not start" in proc.stderr, proc.stderr
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"not a module")
    proc = heaplab("replay", "--backends", f"wasm-v8:module={bad}", "traces/basic.trace")
    assert proc.returncode == 2 and f"{bad}:" in proc.stderr, proc.stderr


def test_a_runner_that_dies_is_a_finding_not_a_crash(heaplab, built, tmp_path):
    """A 'node' that says hello (on fd 3, the runner's socket) and exits: every
    operation after it fails, and the heap check names the runner's end."""
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\nprintf '\\070\\166\\070\\150\\000\\004\\000\\000\\001\\000\\000\\000\\000\\000\\000\\000' >&3\n")
    fake.chmod(0o755)
    proc = heaplab("replay", "--findings", tmp_path, "--backends", f"wasm-v8:node={fake}", "traces/basic.trace")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the V8 runner ended" in proc.stderr, proc.stderr


def test_the_runner_catches_a_lost_prefix(heaplab, built, tmp_path):
    """A module whose realloc flips the first byte of a block it moved: heaplab cannot
    see V8's memory, so the runner's content check must find it, and check reports it."""
    trace = tmp_path / "move.trace"
    trace.write_text("heaplab-trace 1\nalloc 1 24\nalloc 2 24\nrealloc 1 5000\nfree 1\nfree 2\nend\n")
    proc = heaplab("replay", "--findings", tmp_path, "--backends", f"wasm-v8:module={SCRIBBLE}", trace)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"CHECK_FAILED: .*wasm-v8: byte 0 of the block at 0x[0-9a-f]+ changed \(the runner's content "
                     r"check, operation 2\)", proc.stderr), proc.stderr
    proc = heaplab("replay", "--findings", tmp_path, "--backends", "wasm-v8", trace)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_lean_module_agrees_with_its_native_twin(heaplab_release, built, tmp_path):
    """The lean module (seed 004 alone) in V8 against wasm-lean, the same source built
    natively: offsets, answers and memory sizes on the small shipped traces, a real one
    and the generated one (a stream that opens a scope ends there: the lean core has
    none). `make check-wasm` runs every shipped trace."""
    trace = generated_trace(tmp_path / "gen.trace", scopes=False)
    small = sorted(str(t) for t in (ROOT / "traces").glob("*.trace"))
    proc = heaplab_release("diff", "--findings", tmp_path, "--backends", f"wasm-lean,wasm-v8:module={LEAN}",
                           *small, "traces/real/git-log.trace.zst", trace)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = agreed(proc.stdout)
    assert len(rows) == len(small) + 2 and all(n == "2" for n, _, _ in rows), proc.stdout
    assert sum(int(ops) for _, ops, _ in rows) > 42_000 + 99_000, proc.stdout
    assert "traces/scopes.trace: 2 backends agree on 2 operations" in proc.stdout  # ended at its first scope
