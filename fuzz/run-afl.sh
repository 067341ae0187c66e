#!/bin/sh
# An AFL++ campaign (`make fuzz-afl TARGET=diff FUZZ_TIME=30 JOBS=1`): one main
# instance (-M) and JOBS-1 secondaries (-S) on the persistent-mode target
#   fuzz/run-afl.sh [TARGET] [SECONDS] [JOBS]
# TARGET is diff, decode or parse; seeds come from fuzz/corpora/, the output (queue,
# crashes) is build/afl/work/TARGET (resumed when it exists). Crashes are classified
# with fuzz/classify.sh. Prints the executions and exec/s of all instances at the end.
# Exit 0 no crash, 1 crashes (findings), 2 bad usage.
target=${1:-diff}; seconds=${2:-30}; jobs=${3:-1}
case $target in diff|decode) seeds=diff ;; parse) seeds=parse ;; *) echo "run-afl: unknown target '$target' (diff, decode, parse)" >&2; exit 2 ;; esac
bin=build/afl/fuzz-$target
[ -x "$bin" ] || { echo "run-afl: $bin is missing: make fuzz-afl-build" >&2; exit 2; }
command -v afl-fuzz > /dev/null || { echo "run-afl: afl-fuzz is not installed (make deps)" >&2; exit 2; }
out=${HEAPLAB_AFL_OUT:-build/afl/work/$target}
mkdir -p "$out"
# what these machines need (../shared/FACTS.md): no CPU governor, core_pattern 'core', no UI
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_AUTORESUME=1 AFL_NO_AFFINITY=1
run() { # NAME ROLE
    afl-fuzz -i "fuzz/corpora/$seeds" -o "$out" "$2" "$1" -V "$seconds" -t 10000 -x "fuzz/dict/$seeds.dict" \
        -- "$bin" > "$out/$1.log" 2>&1
}
sum_execs() { # execs_done of every instance so far (a resumed campaign counts on)
    total=0
    for stats in "$out"/*/fuzzer_stats; do
        [ -f "$stats" ] && total=$((total + $(awk -F': *' '$1 ~ /^execs_done/ {print int($2)}' "$stats")))
    done
    echo "$total"
}
before=$(sum_execs)
run main -M &
j=2
while [ "$j" -le "$jobs" ]; do run "secondary$j" -S & j=$((j + 1)); done
wait
execs=$(($(sum_execs) - before))
rate=$((execs / seconds))
crashes=$(find "$out" -path '*/crashes/id:*' -type f ! -name '*.trace' 2>/dev/null)
count=$(printf '%s' "$crashes" | grep -c . || true)
if [ ! -f "$out/main/fuzzer_stats" ]; then tail -20 "$out/main.log"; exit 2; fi
echo "afl $target: $execs execs in $seconds s ($rate execs/s over $jobs instances), $count crashes (output: $out)"
if [ "$count" -gt 0 ]; then
    [ "$target" = parse ] || fuzz/classify.sh -b "${HEAPLAB_FUZZ_BACKENDS:-refs,libc}" $crashes
    exit 1
fi
exit 0
