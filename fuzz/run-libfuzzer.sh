#!/bin/sh
# A libFuzzer campaign (`make fuzz-libfuzzer TARGET=diff FUZZ_TIME=30 JOBS=1`):
#   fuzz/run-libfuzzer.sh [TARGET] [SECONDS] [JOBS]
# TARGET is diff (refs and libc under the shadow; HEAPLAB_FUZZ_BACKENDS picks others),
# decode or parse. The working corpus is build/libfuzzer/work/TARGET/corpus, seeded
# from fuzz/corpora/ (which stays as committed); artifacts go to .../artifacts and are
# classified with fuzz/classify.sh. Prints the executions and exec/s at the end.
# Exit 0 no artifact, 1 artifacts (findings), 2 bad usage.
target=${1:-diff}; seconds=${2:-30}; jobs=${3:-1}
case $target in diff|decode) seeds=diff ;; parse) seeds=parse ;; *) echo "run-libfuzzer: unknown target '$target' (diff, decode, parse)" >&2; exit 2 ;; esac
bin=build/libfuzzer/fuzz-$target
[ -x "$bin" ] || { echo "run-libfuzzer: $bin is missing: make fuzz-libfuzzer-build" >&2; exit 2; }
work=build/libfuzzer/work/$target
mkdir -p "$work/corpus" "$work/artifacts"
cp -n fuzz/corpora/$seeds/* "$work/corpus/" 2>/dev/null
parallel=""; [ "$jobs" -gt 1 ] && parallel="-fork=$jobs -ignore_crashes=1"
# rss/malloc limits off: backends are asked for 2^40 bytes on purpose (OUT_OF_MEMORY)
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=0 -malloc_limit_mb=2097152 -print_final_stats=1 \
    -dict=fuzz/dict/$seeds.dict -artifact_prefix="$work/artifacts/" $parallel "$work/corpus" > "$work/log" 2>&1
rc=$?
runs=$(awk '/^stat::number_of_executed_units:/ {s += $2} END {print s + 0}' "$work/log")
rate=$(awk '/^stat::average_exec_per_sec:/ {s += $2} END {print s + 0}' "$work/log")
artifacts=$(find "$work/artifacts" -type f ! -name '*.trace' | wc -l)
echo "libfuzzer $target: $runs execs in ${seconds} s ($rate execs/s), corpus $(ls "$work/corpus" | wc -l) inputs, $artifacts artifacts (log: $work/log)"
if [ "$artifacts" -gt 0 ]; then
    grep -hE "^(DIVERGENCE|DIFFERENCE) " "$work/log" | sort -u | head -5
    [ "$target" = parse ] || fuzz/classify.sh -b "${HEAPLAB_FUZZ_BACKENDS:-refs,libc}" $(find "$work/artifacts" -type f ! -name '*.trace')
    exit 1
fi
[ $rc = 0 ] || { tail -20 "$work/log"; exit 2; }
exit 0
