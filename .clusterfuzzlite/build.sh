#!/bin/bash -eu
# heaplab's fuzz targets built the OSS-Fuzz way, for OSS-Fuzz and ClusterFuzzLite
# (and by hand: tests/fuzz/test_oss_fuzz.py). The engine's variables come from the
# environment as OSS-Fuzz sets them:
#   CC, CXX, CFLAGS, CXXFLAGS   the engine's compilers and flags (sanitizers, coverage)
#   LIB_FUZZING_ENGINE          what turns LLVMFuzzerTestOneInput into a fuzzer
#                               (-fsanitize=fuzzer for libFuzzer, libAFLDriver.a for AFL++)
#   OUT                         where the targets, seed corpora and dictionaries go
#   WORK                        scratch space (default: build/oss-fuzz)
#   HEAPLAB_FUZZ_BACKENDS       optional: the diff target's backends, baked in (default
#                               refs,libc; the variable of the same name overrides it
#                               when a target runs)
# Writes $OUT/heaplab_{diff,decode,parse}, their *_seed_corpus.zip (fuzz/corpora/) and
# *.dict (fuzz/dict/). It builds the checkout it sits in (.clusterfuzzlite/build.sh),
# or $SRC/heaplab when OSS-Fuzz has copied it to $SRC/build.sh.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -f "$here/fuzz/drivers/libfuzzer.c" ] || here=${SRC:?SRC is not set}/heaplab
: "${OUT:?OUT (the output folder) is not set}"
: "${LIB_FUZZING_ENGINE:?LIB_FUZZING_ENGINE is not set (e.g. -fsanitize=fuzzer)}"
make -C "$here" -j"$(nproc)" oss-fuzz
