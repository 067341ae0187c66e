"""The OSS-Fuzz and ClusterFuzzLite build (.clusterfuzzlite/build.sh, `make oss-fuzz`):
the same build.sh OSS-Fuzz's base-builder runs, with the engine variables set by hand
as OSS-Fuzz sets them (no container engine here), for libFuzzer and for AFL++. Each
build writes heaplab_{diff,decode,parse} with their seed corpora and dictionaries, and
each target fuzzes for two seconds from its seed corpus."""
import os
import subprocess
import zipfile


from conftest import ROOT

TARGETS = ("diff", "decode", "parse")
# OSS-Fuzz's flags, at -O0 to build faster (the engines' instrumentation is the same)
ENGINES = {
    "libfuzzer": dict(CC="clang", CXX="clang++",
                      CFLAGS="-O0 -gline-tables-only -fsanitize=address -fsanitize=fuzzer-no-link",
                      CXXFLAGS="-O0 -gline-tables-only -fsanitize=address -fsanitize=fuzzer-no-link",
                      LIB_FUZZING_ENGINE="-fsanitize=fuzzer"),
    "afl": dict(CC="afl-clang-fast", CXX="afl-clang-fast++", CFLAGS="-O0 -gline-tables-only",
                CXXFLAGS="-O0 -gline-tables-only", LIB_FUZZING_ENGINE="/usr/lib/afl/libAFLDriver.a", AFL_QUIET="1"),
}


def build(engine, tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    env = dict(os.environ, OUT=str(out), WORK=str(work), **ENGINES[engine])
    proc = subprocess.run(["bash", str(ROOT / ".clusterfuzzlite/build.sh")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for t in TARGETS:
        assert os.access(out / f"heaplab_{t}", os.X_OK), t
        with zipfile.ZipFile(out / f"heaplab_{t}_seed_corpus.zip") as z:
            assert len(z.namelist()) >= 5, t
        assert (out / f"heaplab_{t}.dict").read_text().strip(), t
    return out


def seeds(out, target, into):
    into.mkdir()
    with zipfile.ZipFile(out / f"heaplab_{target}_seed_corpus.zip") as z:
        z.extractall(into)
    return into


def test_build_sh_with_libfuzzer_builds_targets_that_fuzz(tmp_path):
    out = build("libfuzzer", tmp_path)
    for t in TARGETS:
        corpus = seeds(out, t, tmp_path / f"corpus-{t}")
        proc = subprocess.run([str(out / f"heaplab_{t}"), "-max_total_time=2", f"-dict={out}/heaplab_{t}.dict",
                               "-rss_limit_mb=0", "-malloc_limit_mb=2097152", str(corpus)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Done " in proc.stderr and " runs in " in proc.stderr, proc.stderr[-2000:]


def test_build_sh_with_afl_builds_targets_that_fuzz(tmp_path):
    out = build("afl", tmp_path)
    env = dict(os.environ, AFL_SKIP_CPUFREQ="1", AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES="1", AFL_NO_UI="1",
               AFL_NO_AFFINITY="1")
    for t in TARGETS:
        corpus = seeds(out, t, tmp_path / f"corpus-{t}")
        findings = tmp_path / f"afl-{t}"
        proc = subprocess.run(["afl-fuzz", "-i", str(corpus), "-o", str(findings), "-V", "2", "-t", "10000",
                               "-x", str(out / f"heaplab_{t}.dict"), "--", str(out / f"heaplab_{t}")],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        stats = (findings / "default" / "fuzzer_stats").read_text()
        execs = int([l for l in stats.splitlines() if l.startswith("execs_done")][0].split(":")[1])
        assert execs > 0, stats


def test_build_sh_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("OUT", "LIB_FUZZING_ENGINE")}
    proc = subprocess.run(["bash", str(ROOT / ".clusterfuzzlite/build.sh")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "OUT (the output folder) is not set" in proc.stderr
