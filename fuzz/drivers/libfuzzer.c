/* libfuzzer.c: the libFuzzer entry points (`make fuzz-libfuzzer`). In process, no
 * fork (libFuzzer's coverage counters are per process): a finding aborts, and the
 * artifact is classified afterwards with isolation (fuzz/classify.sh). */
#include "common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hl_fuzz_target target;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    target_from_environment(&target);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_or_abort(&target, data, size);
    return 0;
}
