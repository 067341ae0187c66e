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


def import_text(heaplab, log, fmt, text):
    """Writes text into the log and imports it into out.trace beside it: (out, proc)."""
    log.write_text(text)
    out = log.parent / "out.trace"
    return out, heaplab("import", "--from", fmt, log, "-o", out)


def summary(log, fmt, ops, blocks, warnings, out, tail=""):
    return f"heaplab: imported {log} ({fmt}): {ops} operations, {blocks} blocks, {warnings} warnings{tail} -> {out}"


def test_valgrind_cxx17_aligned_new_and_delete(heaplab, tmp_path):
    """tests/data/import/aligned.valgrind is valgrind 3.19's --trace-malloc=yes output
    (stderr) of a C++17 program (g++ 12 -std=c++17 -fsized-deallocation) that makes
    blocks with `new` and `new[]` of an alignas(64) type, with and without
    std::nothrow, and with ::operator new / new[] (size, std::align_val_t(32 | 128)
    [, std::nothrow]), then deletes each with the matching delete (plain, sized,
    nothrow), then posix_memalign and aligned_alloc; its 76 free(0x0) lines at exit are
    cut to 2. Each aligned new is an alloc with its alignment, each delete a free."""
    log = DATA / "aligned.valgrind"
    text = log.read_text()
    for name in ("_ZnwmSt11align_val_t(", "_ZnamSt11align_val_t(", "_ZnwmSt11align_val_tRKSt9nothrow_t(",
                 "_ZnamSt11align_val_tRKSt9nothrow_t(", "_ZdlPvSt11align_val_t(", "_ZdaPvSt11align_val_t(",
                 "_ZdlPvmSt11align_val_t(", "_ZdaPvmSt11align_val_t(", "_ZdlPvSt11align_val_tRKSt9nothrow_t(",
                 "_ZdaPvSt11align_val_tRKSt9nothrow_t("):
        assert f"-- {name}" in text, name  # the log has every form the importer reads
    out = tmp_path / "out.trace"
    proc = heaplab("import", "--from", "valgrind", log, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == [
        "alloc 1 72704",             # libstdc++'s emergency pool
        "alloc 2 128 align=64",      # new A: _ZnwmSt11align_val_t(size 128, al 64)
        "alloc 3 384 align=64",      # new A[3]: _ZnamSt11align_val_t
        "alloc 4 128 align=64",      # new (std::nothrow) A: ...RKSt9nothrow_t
        "alloc 5 256 align=64",      # new (std::nothrow) A[2]
        "alloc 6 48 align=32",       # ::operator new(48, align_val_t(32))
        "alloc 7 48 align=32",       # ::operator new[]
        "alloc 8 48 align=32",       # nothrow
        "alloc 9 48 align=32",       # nothrow []
        "alloc 10 24 align=128",
        "alloc 11 24 align=128",
        "free 2",                    # delete a: sized aligned _ZdlPvmSt11align_val_t
        "free 3",                    # _ZdaPvSt11align_val_t
        "free 4",                    # _ZdlPvSt11align_val_tRKSt9nothrow_t
        "free 5",                    # _ZdaPvSt11align_val_tRKSt9nothrow_t
        "free 6",                    # _ZdlPvSt11align_val_t
        "free 7",                    # _ZdaPvSt11align_val_t
        "free 8",                    # _ZdlPvmSt11align_val_t
        "free 9",                    # _ZdaPvmSt11align_val_t
        "free 10",
        "free 11",
        "alloc 12 100 align=64",     # posix_memalign, logged by 3.19 as memalign(al 64, size 100)
        "free 12",
        "alloc 13 128 align=64",     # aligned_alloc, logged as memalign
        "free 13",
        "alloc 14 10",
        "free 14",
        "alloc 15 4096",             # stdout's buffer
        "free 1",
        "free 15",
    ]
    assert summary(log, "valgrind", 30, 15, 0, out) in proc.stderr, proc.stderr
    assert heaplab("validate", out).stdout.strip() == f"{out}: ok (30 operations, text form)"
    replay = heaplab("replay", "--backends", "all", out)  # each backend's block honours its alignment
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "10 runs: 10 clean, 0 divergent" in replay.stdout, replay.stdout


def test_valgrind_aligned_new_with_a_bad_alignment(heaplab, tmp_path):
    """valgrind >= 3.22: a nothrow aligned new whose alignment is not a power of two
    returns NULL before printing ` = RESULT`, so the next call follows on the same line."""
    log = tmp_path / "vg.log"
    out, proc = import_text(heaplab, log, "valgrind",
                            "--7-- _ZnwmSt11align_val_tRKSt9nothrow_t(size 8, al 3)malloc(10) = 0x4a2d040\n"
                            "--7-- _ZnamSt11align_val_tRKSt9nothrow_t(size 16, al 0)\n"
                            "--7-- _ZnwmSt11align_val_tRKSt9nothrow_t(size 8, al 16) = 0x0\n"
                            "--7-- free(0x4a2d040)\n")
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == ["alloc 1 8 align=3 fail=INVALID_ARGUMENT", "alloc 2 10",
                               "alloc 3 16 align=0 fail=INVALID_ARGUMENT", "alloc 4 8 align=16 fail=OUT_OF_MEMORY",
                               "free 2"]
    replays_clean(heaplab, out)
    # with a power of two, a missing result is no such call: bad input
    out, proc = import_text(heaplab, log, "valgrind", "--7-- _ZnwmSt11align_val_t(size 8, al 16)\n")
    assert proc.returncode == 2 and f"{log}:1: _ZnwmSt11align_val_t: missing result" in proc.stderr, proc.stderr


def test_valgrind_unknown_functions_are_named(heaplab, tmp_path):
    """Calls of functions the importer does not know are counted and named, as is an
    allocation valgrind logs without its address (posix_memalign since 3.21); the
    known queries and valgrind's -v -v lines are no calls to warn about."""
    log = tmp_path / "vg.log"
    out, proc = import_text(heaplab, log, "valgrind",
                            "==7== Memcheck, a memory error detector\n"
                            "--7-- summarise_context(loc_start = 0x10): cannot summarise(why=1):\n"
                            "--7-- malloc(16) = 0x4a2d040\n"
                            "--7-- malloc_usable_size(0x4a2d040) = 16\n"
                            "--7-- reallocarray(0x4a2d040,4,8) = 0x4a2d100\n"
                            "--7-- mallinfo()\n"
                            "--7-- malloc_zone_malloc(0x1000, 24) = 0x4a2d200\n"
                            "--7-- reallocarray(0x0,2,16) = 0x4a2d300\n"
                            "--7-- posix_memalign(al 64, size 100)\n"
                            "--7-- malloc_usable_size(0x0)malloc(8) = 0x4a2d400\n"  # no result for NULL
                            "--7-- free(0x4a2d400)\n")
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == ["alloc 1 16", "alloc 2 8", "free 2"]
    assert (f"heaplab: {log}: 3 calls of unknown functions skipped: reallocarray (2), malloc_zone_malloc (1)\n"
            in proc.stderr), proc.stderr
    assert f"heaplab: {log}: 1 allocations logged without their address skipped (posix_memalign)" in proc.stderr
    assert "summarise_context" not in proc.stderr and "malloc_usable_size" not in proc.stderr
    assert summary(log, "valgrind", 3, 2, 4, out) in proc.stderr, proc.stderr

    # past the first 8 functions, the rest are counted
    out, proc = import_text(heaplab, log, "valgrind",
                            "".join(f"--7-- f{i}({i}) = 0x{i + 1:x}0\n" for i in range(10)) + "--7-- f9(1)\n")
    assert proc.returncode == 0, proc.stderr
    named = ", ".join(f"f{i} (1)" for i in range(8))
    assert f"11 calls of unknown functions skipped: {named}, and 2 more functions (3 calls)\n" in proc.stderr
    assert "11 warnings" in proc.stderr


MTRACE_HEAD = ("= Start\n"
               "@ ./prog:[0x4005d4] + 0x1b68010 0x10\n"
               "@ ./prog:[0x4005e0] + 0x1b68030 0x40\n"
               "@ ./prog:[0x4005f0] - 0x1b68010\n")


@pytest.mark.parametrize("tail, line, why", [
    ("@ ./prog:[0x400600] + 0x1b68080", 5, "no line break at its end"),            # the size missing
    ("@ ./prog:[0x400600] + 0x1b68080 0x2", 5, "no line break at its end"),        # parses: 0x2 may be 0x20
    ("@ ./prog:[0x4006", 5, "no line break at its end"),
    ("@ ./prog:[0x400600] < 0x1b68030\n", 5, "a realloc '<' whose '>' line is missing"),
    ("@ ./prog:[0x400600] < 0x1b68030\n@ ./prog:[0x400600] > 0x1b", 5, "its '>' line is cut, without a line break"),
], ids=["no-size", "number-cut", "caller-cut", "realloc-half", "realloc-cut"])
def test_mtrace_cut_tail(heaplab, tmp_path, tail, line, why):
    """The log ends inside its last record (a program killed while glibc's buffered
    stream held it): the complete records are imported, with a warning naming the file
    and the line, and the trace says it was cut."""
    log = tmp_path / "cut.mtrace"
    out, proc = import_text(heaplab, log, "mtrace", MTRACE_HEAD + tail)
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == ["alloc 1 16", "alloc 2 64", "free 1"]
    assert (f"heaplab: {log}:{line}: warning: the log ends inside this record ({why}): a cut tail, the record is "
            f"left out; importing the 3 complete operations\n") in proc.stderr, proc.stderr
    assert summary(log, "mtrace", 3, 2, 1, out, ", cut tail") in proc.stderr, proc.stderr
    assert f"#@import.cut_tail=line {line}" in out.read_text().splitlines()
    assert heaplab("validate", out).returncode == 0
    replays_clean(heaplab, out)


def test_mtrace_without_end_marker_is_complete(heaplab, tmp_path):
    """tests/data/import/no-end.mtrace is glibc 2.36's log of a C program that calls
    mtrace() and never muntrace(), as most programs do (MALLOC_TRACE=FILE
    LD_PRELOAD=libc_malloc_debug.so.0): no `= End`, and nothing is cut."""
    log = DATA / "no-end.mtrace"
    assert "= End" not in log.read_text() and log.read_text().endswith("\n")
    out = tmp_path / "out.trace"
    proc = heaplab("import", "--from", "mtrace", log, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == ["alloc 1 16", "alloc 2 64", "realloc 1 32", "free 2", "alloc 3 100", "free 3",
                               "alloc 4 64", "free 4", "alloc 5 32", "free 5", "free 1"]
    assert "warning:" not in proc.stderr and summary(log, "mtrace", 11, 5, 0, out) in proc.stderr, proc.stderr
    # the same log cut inside its last record
    cut = tmp_path / "cut.mtrace"
    cut.write_text(log.read_text()[:-5])
    proc = heaplab("import", "--from", "mtrace", cut, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert f"{cut}:13: warning: the log ends inside this record" in proc.stderr, proc.stderr
    assert operations(out)[-1] == "free 5"


def test_mtrace_malformed_record_is_no_cut_tail(heaplab, tmp_path):
    """Only the record the log ends inside is a cut tail: a record that does not parse
    anywhere else stays bad input (exit 2, FILE:LINE), and nothing is written."""
    log = tmp_path / "log.mtrace"
    cut = MTRACE_HEAD + "@ ./prog:[0x400600] + 0x1b68080"
    out, proc = import_text(heaplab, log, "mtrace", cut)
    assert proc.returncode == 0, proc.stderr  # the cut tail alone
    out.unlink()
    for text, line, message in [
        # the same record in the middle, before a cut one
        (MTRACE_HEAD.replace("+ 0x1b68030 0x40", "+ 0x1b68030") + "@ ./prog:[0x400600] + 0x1b68080", 3,
         "'+': missing size"),
        (cut + "\n", 5, "'+': missing size"),  # the last record, whole (its line break) and malformed
        (MTRACE_HEAD + "@ ./prog:[0x400600] < 0x1b68030\n- 0x1b68030\n@ [0x1] + 0x1", 6,
         "'-' after the realloc '<' of line 5 (expected its '>')"),
    ]:
        out, proc = import_text(heaplab, log, "mtrace", text)
        assert proc.returncode == 2, proc.stderr
        assert f"heaplab: {log}:{line}: {message}" in proc.stderr and "cut tail" not in proc.stderr, proc.stderr
        assert not out.exists()


@pytest.mark.parametrize("fmt, text, line, ops", [
    ("logalloc", "1 1 malloc(16)=0x10\n1 1 malloc(32)=0x20\n1 1 free(0x10)\n1 1 malloc(4", 4,
     ["alloc 1 16 t=1", "alloc 2 32 t=1", "free 1 t=1"]),
    ("logalloc", "1 1 malloc(16)=0x10\n1 1 malloc(32)=0x20\n1 1 free(0x10)\n1 1 free(0x2", 4,  # parses: 0x2 may be 0x20
     ["alloc 1 16 t=1", "alloc 2 32 t=1", "free 1 t=1"]),
    ("valgrind", "--7-- malloc(16) = 0x10\n--7-- malloc(32) = 0x20\n--7-- free(0x10)\n==7== hi\n"
                 "--7-- malloc(8) = 0x", 5,
     ["alloc 1 16", "alloc 2 32", "free 1"]),
    ("valgrind", "--7-- malloc(16) = 0x10\n--7-- malloc(32) = 0x20\n--7-- free(0x10)\n--7-- realloc(0x0,24)", 4,
     ["alloc 1 16", "alloc 2 32", "free 1"]),
], ids=["logalloc", "logalloc-number-cut", "valgrind", "valgrind-realloc"])
def test_other_importers_cut_tail(heaplab, tmp_path, fmt, text, line, ops):
    log = tmp_path / f"cut.{fmt}"
    out, proc = import_text(heaplab, log, fmt, text)
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == ops
    assert f"heaplab: {log}:{line}: warning: the log ends inside this record (" in proc.stderr, proc.stderr
    assert ", cut tail -> " in proc.stderr
    replays_clean(heaplab, out)


def test_malloclab_cut_tail(heaplab, tmp_path):
    """.rep files are often written by hand without a last line break: a last line that
    parses is kept, one that does not is the cut tail (as in heaplab's own text traces);
    a bad record before it stays bad input."""
    log = tmp_path / "cut.rep"
    out, proc = import_text(heaplab, log, "malloclab", "4096\n3\n4\n1\na 0 16\na 1 32\nf 0\nr 1 ")
    assert proc.returncode == 0, proc.stderr
    assert operations(out) == ["alloc 0 16", "alloc 1 32", "free 0"]
    assert f"heaplab: {log}:8: warning: the log ends inside this record (no line break at its end, and it does " \
           f"not parse): a cut tail, the record is left out; importing the 3 complete operations" in proc.stderr
    assert summary(log, "malloclab", 3, 2, 1, out, ", cut tail") in proc.stderr, proc.stderr
    replays_clean(heaplab, out)
    out, proc = import_text(heaplab, log, "malloclab", "4096\n1\n2\n1\na 0 16\nf 0")
    assert proc.returncode == 0 and "warning:" not in proc.stderr, proc.stderr
    assert operations(out) == ["alloc 0 16", "free 0"]
    out.unlink()
    # a bad record before the cut one
    out, proc = import_text(heaplab, log, "malloclab", "4096\n1\n2\n1\na 0 16\nq 0\nf ")
    assert proc.returncode == 2 and f"{log}:6: unknown operation 'q'" in proc.stderr, proc.stderr
    assert not out.exists()
