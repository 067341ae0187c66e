"""`heaplab import`: foreign allocation logs (glibc mtrace, CMU malloc-lab, Mozilla
logalloc, valgrind --trace-malloc) made into consistent traces, driven as a user would.
The good logs are tests/data/import/short.*, hand-written after each published format."""
import subprocess

import pytest

from conftest import ROOT

PYTHON = "/usr/bin/python3"

DATA = ROOT / "tests" / "data" / "import"

# (format, log, operations of the trace, blocks, warnings)
GOOD = [
    ("mtrace", "short.mtrace", [
        "alloc 1 16",
        "alloc 2 64",
        "realloc 1 32",                              # < > that moves: the id is kept
        "alloc 3 1099511627776 fail=OUT_OF_MEMORY",  # + (nil): a failed malloc; - (nil) dropped
        "realloc 2 128",                             # in place; the free of 0x1b680f0 skipped
        "free 1",
        "free 2",
    ], 2, 1),
    ("malloclab", "short.rep", [
        "alloc 0 16",
        "alloc 1 40",
        "realloc 0 100",
        "free 1",
        "alloc 2 8",
        "free 0",                                    # r 0 0: a free
        "free 2",                                    # the second f 1 skipped
    ], 3, 1),
    ("logalloc", "short.logalloc", [
        "alloc 1 42 t=3634",
        "alloc 2 32 t=3635",                         # calloc(4,8)
        "realloc 1 100 t=3634",                      # moved, same id; free(0x0) dropped
        "alloc 3 200 align=64 t=3636",
        "alloc 4 1099511627776 t=3636 fail=OUT_OF_MEMORY",
        "alloc 5 16 t=3634",                         # realloc(0x0,16), at 1's old address
        "free 2 t=3635",
        "free 3 t=3636",
        "free 1 t=3634",
        "free 5 t=3634",                             # realloc(p,0)=0x0; then a double free skipped
    ], 4, 1),
    ("valgrind", "short.valgrind", [
        "alloc 1 16",
        "alloc 2 32",
        "realloc 1 64",
        "alloc 3 24",                                # realloc(0x0,24)malloc(24)
        "alloc 4 100 align=64",                      # memalign(al 64, size 100)
        "alloc 5 1099511627776 fail=OUT_OF_MEMORY",
        "free 2",
        "free 1",
        "free 3",
        "free 4",
    ], 4, 0),
]


def operations(path):
    lines = path.read_text().splitlines()
    assert lines[0] == "heaplab-trace 1" and lines[-1] == "end"
    return [line for line in lines[1:-1] if line and not line.startswith("#")]


@pytest.mark.parametrize("fmt, log, ops, blocks, warnings", GOOD, ids=[g[0] for g in GOOD])
def test_import_good_log(heaplab, tmp_path, fmt, log, ops, blocks, warnings):
    out = tmp_path / "out.trace"
    proc = heaplab("import", "--from", fmt, DATA / log, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == ops
    assert (f"heaplab: imported {DATA / log} ({fmt}): {len(ops)} operations, {blocks} blocks, "
            f"{warnings} warnings -> {out}") in proc.stderr
    if warnings:
        assert f"{warnings} frees of unknown addresses skipped" in proc.stderr
    assert heaplab("validate", out).returncode == 0
    replay = heaplab("replay", "--backends", "all", out)
    assert replay.returncode == 0, replay.stdout + replay.stderr


def test_import_binary(heaplab, tmp_path):
    out = tmp_path / "out.bin"
    assert heaplab("import", "--from", "malloclab", "--binary", DATA / "short.rep", "-o", out).returncode == 0
    assert out.read_bytes().startswith(b"HLTRACE")
    text = tmp_path / "back.trace"
    assert heaplab("convert", "--to", "text", out, text).returncode == 0
    assert operations(text) == GOOD[1][2]


def replays_clean(heaplab, trace):
    replay = heaplab("replay", "--backends", "bins,libc", trace)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "2 runs: 2 clean, 0 divergent" in replay.stdout, replay.stdout


def test_malloclab_null_pointer(heaplab, tmp_path):
    """tests/data/import/nullptr.rep (hand-written): the null pointer of the traces
    recorded from real programs, read with glibc's semantics."""
    out = tmp_path / "out.trace"
    log = DATA / "nullptr.rep"
    proc = heaplab("import", "--from", "malloclab", log, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == [
        "alloc 0 24",    # r 0 24 of an id never allocated: realloc(NULL, 24); f -1 before it dropped
        "alloc 1 100",
        "free 1",
        "alloc 1 300",   # r 1 300 of a freed id: realloc(NULL, 300)
        "alloc 2 0",     # r 2 0 of an id never allocated: realloc(NULL, 0) = malloc(0), a live block
        "realloc 0 48",  # the second f -1 dropped; 0 is live now: a realloc
        "free 2",        # the size-0 block is freed like any other
        "free 1",        # r 1 0 of a live id: a free
        "free 0",
    ]
    assert (f"heaplab: imported {log} (malloclab): 9 operations, 4 blocks, 0 warnings, "
            f"2 free(NULL) dropped -> {out}") in proc.stderr
    assert "frees of unknown addresses" not in proc.stderr  # free(NULL) is no warning
    assert heaplab("validate", out).returncode == 0
    replays_clean(heaplab, out)


# (log body after the header, operations of the trace, free(NULL)s dropped)
NULL_CASES = [
    ("free-null", "f -1\na 0 8\nf -1\nf 0\nf -1\n", ["alloc 0 8", "free 0"], 3),
    ("realloc-new-id", "r 5 64\nr 5 128\nf 5\n", ["alloc 5 64", "realloc 5 128", "free 5"], 0),
    ("realloc-freed-id", "a 0 16\nf 0\nr 0 32\nr 0 0\n", ["alloc 0 16", "free 0", "alloc 0 32", "free 0"], 0),
    ("realloc-new-id-to-0", "r 3 0\nr 3 40\nf 3\n", ["alloc 3 0", "realloc 3 40", "free 3"], 0),
]


@pytest.mark.parametrize("body, ops, null_frees", [c[1:] for c in NULL_CASES], ids=[c[0] for c in NULL_CASES])
def test_malloclab_null_cases(heaplab, tmp_path, body, ops, null_frees):
    log = tmp_path / "in.rep"
    log.write_text("4096\n6\n9\n1\n" + body)
    out = tmp_path / "out.trace"
    proc = heaplab("import", "--from", "malloclab", log, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == ops
    dropped = f", {null_frees} free(NULL) dropped" if null_frees else ""
    assert f"0 warnings{dropped} -> {out}" in proc.stderr, proc.stderr
    replays_clean(heaplab, out)


@pytest.mark.parametrize("line, message", [
    ("f -2", "f: id -2 is negative"),
    ("f -0", "f: id -0 is negative"),
    ("a -1 8", "a: id -1 is negative"),
    ("r -1 8", "r: id -1 is negative"),
    ("r -7 0", "r: id -7 is negative"),
    ("f -1 8", "f: extra field '8'"),
    ("f -x", "f: ID '-x' is not a number"),
    ("f -", "f: ID '-' is not a number"),
])
def test_malloclab_bad_negative_ids(heaplab, tmp_path, line, message):
    log = tmp_path / "bad.rep"
    log.write_text(f"4096\n2\n3\n1\na 0 8\nf -1\n{line}\n")
    out = tmp_path / "out.trace"
    proc = heaplab("import", "--from", "malloclab", log, "-o", out)
    assert proc.returncode == 2, proc.stderr
    assert f"{log}:7: {message}" in proc.stderr, proc.stderr
    if "negative" in message:
        assert "-1 only in 'f -1', free(NULL)" in proc.stderr
    assert not out.exists()


def test_malloclab_a_without_size_carries_the_last_request(heaplab, tmp_path):
    """`a ID` without SIZE (the published alaska.rep has 29,924 such lines) is read as
    CMU's mdriver reads it: the size of the last a or r line."""
    log = tmp_path / "carry.rep"
    log.write_text("4096\n4\n7\n1\na 0 40\na 1\nr 0 100\na 2\nf 1\nf 2\nf 0\n")
    out = tmp_path / "out.trace"
    proc = heaplab("import", "--from", "malloclab", log, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == ["alloc 0 40", "alloc 1 40", "realloc 0 100", "alloc 2 100", "free 1", "free 2",
                               "free 0"]
    assert ", 2 sizes carried from the previous request" in proc.stderr
    replays_clean(heaplab, out)
    first = tmp_path / "first.rep"
    first.write_text("4096\n1\n1\n1\na 0\n")
    proc = heaplab("import", "--from", "malloclab", first, "-o", out)
    assert proc.returncode == 2 and f"{first}:5: a: missing SIZE (and no earlier request to carry it from)" in proc.stderr


def test_check_published_malloclab_script(heaplab, tmp_path):
    """scripts/check_published_malloclab.py (make check-published-malloclab): each .rep
    under a directory imported and replayed; its summary and exit status."""
    reps = tmp_path / "reps"
    (reps / "sub").mkdir(parents=True)
    (reps / "short.rep").write_text((DATA / "short.rep").read_text())
    (reps / "sub" / "nullptr.rep").write_text((DATA / "nullptr.rep").read_text())
    script = [PYTHON, ROOT / "scripts" / "check_published_malloclab.py", "--heaplab", heaplab.path,
              "--backends", "bins,libc"]
    proc = subprocess.run([*map(str, script), str(reps)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok      sub/nullptr.rep: 9 operations, 4 blocks, 0 warnings, 2 free(NULL) dropped; clean on 2 backends" \
        in proc.stdout
    assert "libc       2 of 2 replayed clean" in proc.stdout
    assert proc.stdout.rstrip().endswith("2 imported, 2 replayed clean, 0 failed")

    (reps / "bad.rep").write_text("4096\n1\n1\n1\nf -2\n")
    proc = subprocess.run([*map(str, script), str(reps)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"FAILED  bad.rep: import failed: heaplab: {reps / 'bad.rep'}:5: f: id -2 is negative" in proc.stdout
    assert proc.stdout.rstrip().endswith("2 imported, 2 replayed clean, 1 failed")

    empty = tmp_path / "empty"
    empty.mkdir()
    assert subprocess.run([*map(str, script), str(empty)], capture_output=True, text=True).returncode == 2


def test_malloclab_without_weight(heaplab, tmp_path):
    log = tmp_path / "noweight.rep"
    log.write_text("4096\n2\n3\na 0 8\na 1 8\nf 0\n")
    out = tmp_path / "out.trace"
    assert heaplab("import", "--from", "malloclab", log, "-o", out).returncode == 0
    assert operations(out) == ["alloc 0 8", "alloc 1 8", "free 0"]


# (format, log text, line of the problem, part of the message)
BAD = [
    ("mtrace", "= Start\n@ ./p:[0x1] + 0x10 zz\n", 2, "size 'zz' is not a number"),
    ("mtrace", "@ ./p:[0x1] + 0x10 0x10\n", 1, "first line must be '= Start'"),
    ("mtrace", "= Start\n+ 0x10 0x10\n< 0x10\n- 0x10\n", 4, "expected its '>'"),
    ("mtrace", "= Start\n> 0x20 0x10\n", 2, "'>' without the realloc '<'"),
    ("mtrace", "= Start\n* 0x10\n", 2, "expected an operation"),
    ("malloclab", "4096\n2\n", 2, "malloclab header missing"),
    ("malloclab", "4096\nten\n3\n", 2, "number of ids"),
    ("malloclab", "4096\n2\n2\n1\na 0 x16\n", 5, "a: SIZE 'x16' is not a number"),
    ("malloclab", "4096\n2\n2\n1\na 0 16\na 0 8\n", 6, "a: id 0 is already live"),
    ("malloclab", "4096\n2\n2\n1\na 0 16\nq 0\n", 6, "unknown operation 'q'"),
    ("logalloc", "1 1 malloc(16)=0x10\n1 1 malloc(abc)=0x20\n", 2, "malloc: SIZE 'abc' is not a number"),
    ("logalloc", "1 1 calloc(4294967296,4294967296)=0x10\n", 1, "overflows"),
    ("logalloc", "1 1 malloc(16\n", 1, "missing ')'"),
    ("logalloc", "1 1 malloc(16)\n", 1, "missing result"),
    ("logalloc", "1 1 mmap(16)=0x10\n", 1, "unknown function 'mmap'"),
    ("logalloc", "hello\n", 1, "expected PID TID"),
    ("valgrind", "--7-- malloc(16) = 0x10\n--7-- realloc(0x10) = 0x20\n", 2, "realloc: expected 2 arguments"),
    ("valgrind", "==7== hi\n--7-- malloc(1x) = 0x10\n", 2, "malloc: size '1x' is not a number"),
    ("valgrind", "--7-- calloc(2,3) = nope\n", 1, "is not a number"),
]


@pytest.mark.parametrize("fmt, text, line, message", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_import_malformed(heaplab, tmp_path, fmt, text, line, message):
    log = tmp_path / f"bad.{fmt}"
    log.write_text(text)
    out = tmp_path / "out.trace"
    proc = heaplab("import", "--from", fmt, log, "-o", out)
    assert proc.returncode == 2, proc.stderr
    assert f"{log}:{line}: " in proc.stderr and message in proc.stderr, proc.stderr
    assert not out.exists()  # nothing written unless the whole import succeeded


def test_valgrind_skips_other_lines(heaplab, tmp_path):
    log = tmp_path / "vg.log"
    log.write_text("program output\n==7== Invalid read\n--7-- Reading syms from /bin/true\n"
                   "--7-- malloc_usable_size(0x10) = 16\n--7-- malloc(8) = 0x10\n--7-- free(0x10)\n")
    out = tmp_path / "out.trace"
    assert heaplab("import", "--from", "valgrind", log, "-o", out).returncode == 0
    assert operations(out) == ["alloc 1 8", "free 1"]


@pytest.mark.parametrize("args, message", [
    (["--from", "tcmalloc", "IN", "-o", "OUT"], "unknown format"),
    (["--from", "mtrace", DATA / "short.mtrace"], "needs -o OUTPUT"),
    ([DATA / "short.mtrace", "-o", "OUT"], "--from FORMAT is required"),
    (["--from", "mtrace", "-o", "OUT"], "needs an INPUT"),
    (["--from", "mtrace", "--colour", DATA / "short.mtrace", "-o", "OUT"], "unknown option"),
])
def test_import_bad_usage(heaplab, tmp_path, args, message):
    proc = heaplab("import", *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (tmp_path / "OUT").exists()


def test_import_missing_file(heaplab, tmp_path):
    proc = heaplab("import", "--from", "logalloc", tmp_path / "nope.log", "-o", tmp_path / "out.trace")
    assert proc.returncode == 2
    assert f"{tmp_path / 'nope.log'}: cannot open" in proc.stderr


def test_import_help(heaplab):
    proc = heaplab("import", "--help")
    assert proc.returncode == 0
    assert "usage: heaplab import --from FORMAT" in proc.stdout
    for fmt in ("mtrace", "malloclab", "logalloc", "valgrind"):
        assert fmt in proc.stdout
    assert "import" in heaplab("--help").stdout
