/* registry.c: the test build's backends (hl_test_backends, backends.h): the
 * test-only backends of tests/backends/ and the planted-bug mutants of fuzz/mutants/.
 * Linked into build/VARIANT/heaplab-test, the unit tests and the libFuzzer mutant
 * target, never into build/heaplab. */
#include "backends.h"

typedef const hl_backend *(*backend_getter)(void);

/* the planted-bug mutants of fuzz/mutants/ */
const hl_backend *hl_mutant_live_handout(void);
const hl_backend *hl_mutant_class_off_by_one(void);
const hl_backend *hl_mutant_realloc_free_first(void);
const hl_backend *hl_mutant_realloc_frees_on_failure(void);
const hl_backend *hl_mutant_large_align(void);
const hl_backend *hl_mutant_double_free_silent(void);
const hl_backend *hl_mutant_stats_drift(void);
const hl_backend *hl_mutant_scope_exit_parent(void);
const hl_backend *hl_mutant_dma_shared_line(void);
const hl_backend *hl_test_backend_guard_leaky(void);
const hl_backend *hl_test_backend_guard_closed(void);
const hl_backend *hl_test_backend_crasher(void);
const hl_backend *hl_test_backend_hanger(void);
const hl_backend *hl_test_backend_rotter(void);
const hl_backend *hl_test_backend_exiter(void);
const hl_backend *hl_test_backend_stopper(void);
const hl_backend *hl_test_backend_forker(void);
const hl_backend *hl_test_backend_tearer(void);
const hl_backend *hl_test_backend_wasm_shifted(void);
const hl_backend *hl_test_backend_racy(void);
static const backend_getter test_only[] = {
    hl_mutant_live_handout,
    hl_mutant_class_off_by_one,
    hl_mutant_realloc_free_first,
    hl_mutant_realloc_frees_on_failure,
    hl_mutant_large_align,
    hl_mutant_double_free_silent,
    hl_mutant_stats_drift,
    hl_mutant_scope_exit_parent,
    hl_mutant_dma_shared_line,
    hl_test_backend_guard_leaky,
    hl_test_backend_guard_closed,
    hl_test_backend_crasher,
    hl_test_backend_hanger,
    hl_test_backend_rotter,
    hl_test_backend_exiter,
    hl_test_backend_stopper,
    hl_test_backend_forker,
    hl_test_backend_tearer,
    hl_test_backend_wasm_shifted,
    hl_test_backend_racy,
};

#define TEST_COUNT (sizeof test_only / sizeof test_only[0])

const hl_backend *const *hl_test_backends(size_t *count)
{
    static const hl_backend *table[TEST_COUNT];
    if (!table[0])
        for (size_t i = 0; i < TEST_COUNT; i++) table[i] = test_only[i]();
    *count = TEST_COUNT;
    return table;
}
