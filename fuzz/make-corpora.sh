#!/bin/sh
# Seeds the fuzz corpora from the shipped traces (`make corpora`):
#   fuzz/corpora/diff/NAME.input   the trace encoded as fuzz input (diff and decode targets)
#   fuzz/corpora/parse/NAME.trace  the trace as shipped (text form)
#   fuzz/corpora/parse/NAME.hlt    the same trace in binary form
#   fuzz/corpora/parse/NAME.trace.zst  and zstd-compressed
# The test suite checks the committed corpora are what this makes, and replays them.
set -e
HEAPLAB=${HEAPLAB:-./build/heaplab}
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpora/diff fuzz/corpora/parse
for trace in traces/*.trace; do
    name=$(basename "$trace" .trace)
    "$HEAPLAB" convert --to fuzz-input "$trace" "fuzz/corpora/diff/$name.input" 2>/dev/null
    cp "$trace" "fuzz/corpora/parse/$name.trace"
    "$HEAPLAB" convert --to binary "$trace" "fuzz/corpora/parse/$name.hlt" 2>/dev/null
    "$HEAPLAB" convert --to text "$trace" "fuzz/corpora/parse/$name.trace.zst" 2>/dev/null
done
cp tests/data/import/* fuzz/corpora/parse/ # the importers' sample logs
echo "corpora: $(ls fuzz/corpora/diff | wc -l) diff inputs, $(ls fuzz/corpora/parse | wc -l) parse inputs"
