#!/bin/sh
# Classifies fuzzer artifacts (libFuzzer crash-*, AFL++ crashes/id:*) with isolation:
# each input is decoded into the trace it stands for, then replayed on every backend
# alone in a forked child (`heaplab replay --isolate`), which names the backend, the
# operation and the rule (a crash is CRASH at its operation), and the differential run
# (`heaplab diff`) compares them.
#
#   fuzz/classify.sh [-b BACKENDS] ARTIFACT...     (default backends: refs,libc)
#
# Writes ARTIFACT.trace beside each artifact. Exit 0 when nothing reproduces, 1 when
# some artifact shows a finding, 2 bad usage.
HEAPLAB=${HEAPLAB:-./build/heaplab}
backends=refs,libc
if [ "$1" = -b ]; then backends=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: fuzz/classify.sh [-b BACKENDS] ARTIFACT..." >&2; exit 2; }
found=0
for artifact in "$@"; do
    echo "== $artifact"
    "$HEAPLAB" convert --from fuzz-input "$artifact" "$artifact.trace" || exit 2
    "$HEAPLAB" replay --isolate -q --check-every 1 --findings "$artifact.findings" --backends "$backends" "$artifact.trace"
    replay=$?
    diff=0
    case $backends in *,*|refs|all) # a comparison needs two backends
        "$HEAPLAB" diff --backends "$backends" "$artifact.trace"; diff=$? ;;
    esac
    [ $replay = 2 ] || [ $diff = 2 ] && exit 2
    [ $replay = 1 ] || [ $diff = 1 ] && found=1
done
exit $found
