"""Bad input gets a clear message naming the file and line (or byte), exit 2, and
nothing printed as a result. One test per case of the spine issue."""
import os
import subprocess

import pytest

from conftest import ROOT, write_trace

TEXT_CASES = [
    # (name, body after the magic line, expected message part)
    ("unknown_op", "alloc 1 16\nalocc 2 16\n", ":3: unknown operation 'alocc'"),
    ("missing_field", "alloc 1\n", ":2: alloc: missing field"),
    ("non_numeric_size", "alloc 1 abc\n", ":2: alloc: SIZE 'abc' is not a number"),
    ("too_large_u64", "alloc 1 18446744073709551616\n", ":2: alloc: SIZE"),
    ("too_large_scope", "scope_enter 4294967296\n", ":2: scope_enter:"),
    ("unknown_annotation", "alloc 1 16 colour=red\n", ":2: unknown annotation 'colour=red'"),
    ("bad_fail_name", "alloc 1 16 fail=NOPE\n", "fail=NOPE"),
    ("extra_field", "free 1 2 3\nalloc 1 16\n", ":2:"),
    ("free_not_live", "alloc 1 16\nfree 2\n", ":3: free: block id 2 was never allocated"),
    ("double_alloc", "alloc 1 16\nalloc 1 32\n", ":3: alloc: block id 1 is already live"),
    ("freed_then_used", "alloc 1 16\nfree 1\nrealloc 1 32\n", ":4: realloc: block id 1 is not live"),
    ("scope_not_open", "scope_enter 1\nscope_exit 2\n", ":3: scope_exit: scope 2 is not open"),
    ("touch_outside", "alloc 1 16\ntouch 1 8 9 r\n", ":3: touch: range [8, +9) lies outside block id 1"),
    ("promote_wrong_scope", "alloc 1 16\nscope_enter 1\npromote 1 1 8\n",
     ":4: promote: block id 1 is not in scope 1"),
    ("content_after_end", "alloc 1 16\nend\nfree 1\n", ":4:"),
]


@pytest.mark.parametrize("name, body, message", TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
@pytest.mark.parametrize("command", ["validate", "replay"])
def test_bad_text_trace(heaplab, tmp_path, command, name, body, message):
    trace = write_trace(tmp_path / f"{name}.trace", body, end=name != "content_after_end")
    args = ["replay", "--backends", "bins", trace] if command == "replay" else ["validate", trace]
    proc = heaplab(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert str(trace) + message in proc.stderr or (str(trace) in proc.stderr and message in proc.stderr), proc.stderr
    assert "DIVERGENCE" not in proc.stderr
    if command == "replay":
        assert proc.stdout == ""  # nothing printed as a result


def test_wrong_magic(heaplab, tmp_path):
    path = tmp_path / "notes.trace"
    path.write_text("hello world\nalloc 1 16\n")
    proc = heaplab("validate", path)
    assert proc.returncode == 2
    assert f"{path}: not a heaplab trace (wrong magic)" in proc.stderr


def test_empty_file(heaplab, tmp_path):
    path = tmp_path / "empty.trace"
    path.write_bytes(b"")
    proc = heaplab("validate", path)
    assert proc.returncode == 2
    assert f"{path}: empty file" in proc.stderr


def test_binary_cut_inside_header(heaplab, tmp_path):
    text = write_trace(tmp_path / "t.trace", "alloc 1 16\nfree 1\n")
    binary = tmp_path / "t.bin"
    assert heaplab("convert", "--to", "binary", text, binary).returncode == 0
    cut = tmp_path / "cut.bin"
    cut.write_bytes(binary.read_bytes()[:5])
    proc = heaplab("validate", cut)
    assert proc.returncode == 2
    assert str(cut) in proc.stderr


def test_directory_without_traces(heaplab, tmp_path):
    (tmp_path / "README.md").write_text("no traces here\n")
    proc = heaplab("replay", "--backends", "bins", tmp_path)
    assert proc.returncode == 2
    assert str(tmp_path) in proc.stderr and "no trace" in proc.stderr


@pytest.mark.parametrize("command", ["validate", "replay"])
def test_a_file_in_a_directory_that_cannot_be_read_is_bad_input(heaplab, tmp_path, command):
    """Not skipped silently with exit 0: the command names the file and exits 2 before
    anything runs. A link to nothing stands for an unreadable file (root reads a file
    without permissions); without root, a file with no read permission too."""
    (tmp_path / "basic.trace").write_text((ROOT / "traces/basic.trace").read_text())
    broken = tmp_path / "lost.trace"
    broken.symlink_to(tmp_path / "gone.trace")
    unreadable = [broken]
    if os.geteuid() != 0:
        locked = tmp_path / "locked.trace"
        locked.write_text((ROOT / "traces/basic.trace").read_text())
        locked.chmod(0)
        unreadable.append(locked)
    for path in unreadable:
        others = [p for p in unreadable if p != path]
        for other in others:
            other.rename(other.with_name("." + other.name))  # hidden: one unreadable file at a time
        proc = heaplab(command, *(["--backends", "bins"] if command == "replay" else []), tmp_path)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert f"{path}: cannot open" in proc.stderr
        assert proc.stdout == ""  # nothing ran
        for other in others:
            other.with_name("." + other.name).rename(other)


def test_missing_file(heaplab, tmp_path):
    proc = heaplab("replay", "--backends", "bins", tmp_path / "nope.trace")
    assert proc.returncode == 2
    assert f"{tmp_path / 'nope.trace'}: cannot open" in proc.stderr


@pytest.mark.parametrize("spec, message", [
    ("jemallocc", "unknown backend 'jemallocc'"),
    ("bins:colour=red", "unknown option 'colour'"),
    ("bins:size=12Q", "size='12Q'"),
    ("bins:source", "option 'source' is not key=value"),
    ("bins,,libc", "empty entry"),
    ("./no-such-plugin.so", "cannot load plugin"),
])
def test_bad_backend_spec(heaplab, spec, message):
    proc = heaplab("replay", "--backends", spec, "traces/basic.trace")
    assert proc.returncode == 2
    assert message in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_cut_tail_replays_with_a_warning(heaplab, tmp_path):
    trace = write_trace(tmp_path / "cut.trace", "alloc 1 16\nalloc 2 32\nfree 1\nall", end=False)
    proc = heaplab("replay", "--backends", "bins", trace)
    assert proc.returncode == 0, proc.stderr
    assert "warning" in proc.stderr and "cut tail" in proc.stderr and str(trace) in proc.stderr
    row = [line for line in proc.stdout.splitlines() if line.startswith("bins ")][0]
    assert row.split()[2] == "3"  # the three complete operations


def test_bad_trace_among_good_ones_is_reported_when_reached(heaplab, tmp_path):
    """Each trace is read and checked when its turn comes (README "Traces"): the good
    trace before the bad one has run; the bad one is bad input, exit 2."""
    write_trace(tmp_path / "a.trace", "alloc 1 16\nfree 1\n")
    write_trace(tmp_path / "b.trace", "free 9\n")
    for command in (["replay"], ["diff", "--backends", "arena"]):
        args = [command[0], "--backends", "bins" + ("," + command[2] if len(command) > 1 else ""), tmp_path]
        proc = heaplab(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert f"heaplab: {tmp_path}/b.trace:2: free: block id 9 was never allocated" in proc.stderr
        assert f"{tmp_path}/a.trace" in proc.stdout  # ran before the bad one was reached


def test_plugin_for_another_contract_version_is_refused(heaplab):
    plugin = "./build/tests/plugin_old_contract.so"
    proc = heaplab("replay", "--backends", plugin, "traces/basic.trace")
    assert proc.returncode == 2
    assert f"backend '{plugin}': plugin was built for another contract (contract version 42" in proc.stderr


def test_the_forms_of_a_library_are_found_where_a_user_looks(heaplab):
    """--help, list and the unknown-backend error show both forms; a malloc-style library
    passed as a contract plugin gets the malloc: spec it meant, with its prefix."""
    forms = ("./lib.so[:name=LABEL]", "malloc:PREFIX@./lib.so[:name=LABEL]")
    for args in (["--help"], ["list"]):
        proc = heaplab(*args)
        assert proc.returncode == 0 and all(f in proc.stdout for f in forms), proc.stdout
    proc = heaplab("replay", "--backends", "mylib", "traces/basic.trace")
    assert proc.returncode == 2 and "unknown backend 'mylib'" in proc.stderr and all(f in proc.stderr for f in forms)
    lib = "./build/examples/libexmalloc.so"
    proc = heaplab("replay", "--backends", lib, "traces/basic.trace")
    assert proc.returncode == 2, proc.stderr
    assert f"plugin does not export heaplab_backend(); it exports malloc, free and realloc: did you mean " \
           f"malloc:ex_@{lib}?" in proc.stderr
    # the name= of a library given as a plugin stays out of the path it loads
    proc = heaplab("replay", "--backends", "./build/tests/libmalloc_firstfit.so:name=x", "traces/basic.trace")
    assert proc.returncode == 2 and "did you mean malloc:ff_@./build/tests/libmalloc_firstfit.so?" in proc.stderr, \
        proc.stderr
    # no malloc family at all: what a contract plugin needs, and the other form
    proc = heaplab("replay", "--backends", "/lib/x86_64-linux-gnu/libm.so.6", "traces/basic.trace")
    assert proc.returncode == 2 and "(a contract plugin must; a malloc-style library is named malloc:PREFIX@LIB)" \
        in proc.stderr, proc.stderr


def test_convert_refuses_an_inconsistent_trace_and_writes_nothing(heaplab, tmp_path):
    """A command that refuses its input leaves no output; --unchecked converts it as it
    is, on purpose, and validate still rejects the result."""
    trace = write_trace(tmp_path / "twice.trace", "alloc 1 16\nalloc 1 32\n")
    for form, out in (("binary", tmp_path / "twice.bin"), ("text", tmp_path / "twice.trace.zst")):
        proc = heaplab("convert", "--to", form, trace, out)
        assert proc.returncode == 2 and f"{trace}:3: alloc: block id 1 is already live" in proc.stderr
        assert not out.exists()
    raw = tmp_path / "raw.bin"
    assert heaplab("convert", "--unchecked", "--to", "binary", trace, raw).returncode == 0
    proc = heaplab("validate", raw)
    assert proc.returncode == 2 and "already live" in proc.stderr
    proc = heaplab("convert", "--unchecked", "--to", "fuzz-input", trace, tmp_path / "x.input")
    assert proc.returncode == 2 and "--unchecked" in proc.stderr


@pytest.mark.parametrize("value", ["0", "100001", "many"])
def test_a_bad_fresh_every_is_bad_usage(heaplab, value):
    """heaplab fuzz --fresh-every, and HEAPLAB_FUZZ_FRESH_EVERY for the engine targets."""
    proc = heaplab("fuzz", "--backends", "bins", "--fresh-every", value, "--runs", "1")
    assert proc.returncode == 2 and f"--fresh-every '{value}' is not a count from 1 to 100000" in proc.stderr
    assert proc.stdout == ""
    target = subprocess.run([str(ROOT / "build/asan/fuzz-afl-stdin")], input=b"", capture_output=True,
                            env=dict(os.environ, HEAPLAB_FUZZ_FRESH_EVERY=value), timeout=60)
    assert target.returncode == 2 and b"HEAPLAB_FUZZ_FRESH_EVERY=" + value.encode() in target.stderr
