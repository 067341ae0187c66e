"""The fuzz targets and their front ends (fuzz/target.c, fuzz/drivers/): seed corpora
made from the shipped traces, inputs to and from traces (`heaplab convert`), the corpus
and findings replayer `make test` runs (a fixed bug stays fixed), the parse target on
damaged traces, the AFL++ target's stdin mode, and short libFuzzer and AFL++ runs
through the make targets a user types."""
import os
import random
import shutil
import subprocess

import pytest

from conftest import ROOT, binary

TRACES = sorted((ROOT / "traces").glob("*.trace"))


@pytest.fixture(scope="module")
def replayer():
    path = binary("FUZZ_REPLAY", "build/asan/fuzz-replay")

    def run(*args, timeout=300):
        return subprocess.run([str(path), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return run


def test_inputs_convert_to_and_from_traces(heaplab, tmp_path):
    for trace in TRACES:
        data = tmp_path / (trace.stem + ".input")
        back = tmp_path / (trace.stem + ".trace")
        assert heaplab("convert", "--to", "fuzz-input", trace, data).returncode == 0
        proc = heaplab("convert", "--from", "fuzz-input", data, back)
        assert proc.returncode == 0, proc.stderr
        ops = lambda p: [l.split()[0] for l in p.read_text().splitlines()[1:] if l and l[0] != "#" and l != "end"]
        assert ops(back) == ops(trace), trace  # the same operations (ids may be renumbered)
        assert heaplab("diff", "--backends", "bins,libc", back).returncode == 0


def test_convert_refuses_what_it_cannot_do(heaplab, tmp_path):
    bad = tmp_path / "bad.trace"
    bad.write_text("heaplab-trace 1\nfree 7\nend\n")  # reads, but is not consistent
    proc = heaplab("convert", "--to", "fuzz-input", bad, tmp_path / "x")
    assert proc.returncode == 2 and "bad.trace:2" in proc.stderr
    assert heaplab("convert", "--from", "text", TRACES[0], tmp_path / "y").returncode == 2
    assert heaplab("convert", "--from", "fuzz-input", "--to", "fuzz-input", TRACES[0], tmp_path / "y").returncode == 2
    missing = heaplab("convert", "--from", "fuzz-input", tmp_path / "nothing", tmp_path / "y")
    assert missing.returncode == 2 and "nothing: cannot open" in missing.stderr


def test_committed_corpora_are_what_the_traces_make(heaplab, tmp_path):
    for trace in TRACES:
        data = tmp_path / "x.input"
        heaplab("convert", "--to", "fuzz-input", trace, data)
        assert data.read_bytes() == (ROOT / "fuzz/corpora/diff" / (trace.stem + ".input")).read_bytes(), \
            f"fuzz/corpora is stale: run `make corpora` ({trace.name})"
        assert (ROOT / "fuzz/corpora/parse" / trace.name).read_bytes() == trace.read_bytes()
        assert (ROOT / "fuzz/corpora/parse" / (trace.stem + ".hlt")).exists()
        assert (ROOT / "fuzz/corpora/parse" / (trace.stem + ".trace.zst")).exists()


def test_corpora_and_fixed_findings_replay_clean(replayer):
    proc = replayer("--target", "diff", "fuzz/corpora/diff", "fuzz/findings")
    assert proc.returncode == 0, proc.stderr
    inputs = len(list((ROOT / "fuzz/corpora/diff").iterdir())) + len(list((ROOT / "fuzz/findings").glob("*.input")))
    assert f"fuzz-replay: diff: {inputs} inputs, 0 findings" in proc.stdout
    proc = replayer("--target", "parse", "fuzz/corpora/parse")
    assert proc.returncode == 0 and "inputs, 0 findings" in proc.stdout, proc.stderr
    assert replayer("--target", "decode", "fuzz/corpora/diff").returncode == 0


def test_a_finding_replays_on_the_backends_its_record_names(replayer, tmp_path):
    # an input whose record names a backend spec that cannot be made: the replayer
    # must read the record (and say so), not run the default backends
    shutil.copy(ROOT / "fuzz/corpora/diff/basic.input", tmp_path / "f.input")
    (tmp_path / "f.json").write_text('{"backends": ["bins:nosuch=1"]}')
    (tmp_path / "f.trace").write_text("not an input: the finding's companion\n")
    proc = replayer("--target", "diff", tmp_path)
    assert proc.returncode == 2 and "f.input" in proc.stderr and "nosuch" in proc.stderr
    (tmp_path / "f.json").write_text('{"backends": ["arena", "libc"]}')
    proc = replayer("--target", "diff", tmp_path)
    assert proc.returncode == 0 and "1 inputs, 0 findings" in proc.stdout


def test_the_parse_target_gives_a_trace_or_a_clean_error_on_damaged_input(replayer, tmp_path):
    rng = random.Random(11)
    for trace in TRACES:
        text = trace.read_bytes()
        binary_form = (ROOT / "fuzz/corpora/parse" / (trace.stem + ".hlt")).read_bytes()
        for k, source in enumerate((text, binary_form)):
            for n in range(12):
                damaged = bytearray(source)
                for _ in range(rng.randint(1, 6)):
                    at = rng.randrange(len(damaged))
                    choice = rng.randrange(3)
                    if choice == 0:
                        damaged[at] = rng.randrange(256)
                    elif choice == 1:
                        del damaged[at:at + rng.randint(1, 8)]
                    else:
                        damaged[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
                (tmp_path / f"{trace.stem}-{k}-{n}").write_bytes(bytes(damaged))
    proc = replayer("--target", "parse", tmp_path)  # ASan and LeakSanitizer watch this
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{len(TRACES) * 24} inputs, 0 findings" in proc.stdout


def test_replayer_bad_usage(replayer):
    assert replayer("--target", "nosuch", "fuzz/corpora/diff").returncode == 2
    assert replayer("--backends", "nosuch", "fuzz/corpora/diff").returncode == 2
    assert replayer("fuzz/no-such-dir").returncode == 2
    assert replayer().returncode == 2
    assert replayer("--help").returncode == 0


def test_the_afl_target_built_without_afl_reads_one_input_from_stdin():
    path = binary("FUZZ_AFL_STDIN", "build/asan/fuzz-afl-stdin")
    data = (ROOT / "fuzz/corpora/diff/scopes.input").read_bytes()
    proc = subprocess.run([str(path)], input=data, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    env = dict(os.environ, HEAPLAB_FUZZ_BACKENDS="nosuch")
    proc = subprocess.run([str(path)], input=data, capture_output=True, timeout=120, env=env)
    assert proc.returncode == 2 and b"nosuch" in proc.stderr


def make(*args, timeout=900):
    return subprocess.run(["make", "-s", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_make_fuzz_libfuzzer_runs_and_prints_its_exec_rate():
    proc = make("fuzz-libfuzzer", "FUZZ_TIME=4")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    line = [l for l in proc.stdout.splitlines() if l.startswith("libfuzzer diff: ")][0]
    assert " execs in 4 s (" in line and "0 artifacts" in line
    assert int(line.split()[2]) > 0  # executions were made
    # its feedback: the diff's outcomes as extra counters (15 operation kinds x 64
    # errors), and coverage on the code under test, none on heaplab's own layers
    log = (ROOT / "build/libfuzzer/work/diff/log").read_text()
    assert "INFO: 960 Extra Counters" in log, log[:2000]

    def hooks(obj):
        symbols = subprocess.run(["nm", str(ROOT / "build/libfuzzer/obj" / obj)], capture_output=True, text=True)
        return "__sanitizer_cov_" in symbols.stdout
    assert hooks("allocators/bins.o") and hooks("allocators/kit/scope_tracker.o") and hooks("fuzz/decode.o")
    assert hooks("trace/trace_text.o") and hooks("fuzz/target_diff.o")
    assert not hooks("run/exec.o") and not hooks("check/shadow.o") and not hooks("run/blockmap.o")


def test_make_fuzz_afl_runs_and_prints_its_exec_rate():
    proc = make("fuzz-afl", "FUZZ_TIME=4", "TARGET=decode", "JOBS=2")  # one -M, one -S
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    line = [l for l in proc.stdout.splitlines() if l.startswith("afl decode: ")][0]
    assert " execs in 4 s (" in line and "over 2 instances" in line and "0 crashes" in line
    assert (ROOT / "build/afl/work/decode/main/fuzzer_stats").exists()
    assert (ROOT / "build/afl/work/decode/secondary2/fuzzer_stats").exists()
    assert int(line.split()[2]) > 0


def test_classify_names_the_backend_and_rule_of_an_artifact(tmp_path):
    env = dict(os.environ, HEAPLAB=str(binary("HEAPLAB_TEST_RELEASE", "build/release/heaplab-test")))
    artifact = tmp_path / "crash-1"
    artifact.write_bytes(bytes([0, 0x20, 13, 0]))  # one alloc: size edge 4096-ish, align 8192
    run = lambda *args: subprocess.run([str(ROOT / "fuzz/classify.sh"), *map(str, args)], cwd=ROOT, env=env,
                                       capture_output=True, text=True, timeout=300)
    proc = run("-b", "mutant-large-align", artifact)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "mutant-large-align" in proc.stderr and ": ALIGNMENT: " in proc.stderr
    assert (tmp_path / "crash-1.trace").exists()
    proc = run("-b", "bins,libc", artifact)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert run().returncode == 2
