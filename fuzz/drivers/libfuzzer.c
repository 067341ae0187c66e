/* libfuzzer.c: the libFuzzer entry points (`make fuzz-libfuzzer`). In process, no
 * fork (libFuzzer's coverage counters are per process): a finding aborts, and the
 * artifact is classified afterwards with isolation (fuzz/classify.sh).
 *
 * Feedback: the coverage of the code under test (the Makefile instruments the
 * allocators, the parsers and the decoder, not heaplab's own layers) and, as libFuzzer's
 * extra counters, the diff's outcomes: one counter for each (operation kind, error)
 * some backend answered, which is the built-in fuzzer's feedback too. */
#include "common.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hl_fuzz_target target;

/* libFuzzer clears them before each input and reads them after it */
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t outcome_counters[HL_OP_COUNT][64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    target_from_environment(&target);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hl_diff_summary s;
    run_or_abort(&target, data, size, &s);
    for (int kind = 0; kind < HL_OP_COUNT; kind++)
        for (uint64_t errors = s.outcomes[kind]; errors; errors &= errors - 1)
            outcome_counters[kind][__builtin_ctzll(errors)] = 1;
    return 0;
}
