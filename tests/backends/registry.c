/* registry.c: the test build's backends (hl_test_backends, backends.h): the
 * test-only backends of tests/backends/ and the planted-bug mutants of fuzz/mutants/.
 * Linked into build/VARIANT/heaplab-test, the unit tests and the libFuzzer mutant
 * target, never into build/heaplab. */
#include "backends.h"

/* Every test backend, one line each: its getter and whether it honours the whole
 * contract (CONFORMS: the conformance suite, tests/allocators/test_conformance.c,
 * runs it as it runs the built-ins; BROKEN: a planted bug or a misbehaviour the
 * tests expect to be found). Adding one = its file + one line here. */
#define TEST_BACKENDS(X)                                                                                         \
    X(hl_mutant_live_handout, BROKEN)                                                                            \
    X(hl_mutant_class_off_by_one, BROKEN)                                                                        \
    X(hl_mutant_realloc_free_first, BROKEN)                                                                      \
    X(hl_mutant_realloc_frees_on_failure, BROKEN)                                                                \
    X(hl_mutant_large_align, BROKEN)                                                                             \
    X(hl_mutant_double_free_silent, BROKEN)                                                                      \
    X(hl_mutant_stats_drift, BROKEN)                                                                             \
    X(hl_mutant_scope_exit_parent, BROKEN)                                                                       \
    X(hl_mutant_dma_shared_line, BROKEN)                                                                         \
    X(hl_test_backend_guard_leaky, BROKEN)                                                                       \
    X(hl_test_backend_guard_closed, BROKEN)                                                                      \
    X(hl_test_backend_crasher, BROKEN)                                                                           \
    X(hl_test_backend_hanger, BROKEN)                                                                            \
    X(hl_test_backend_rotter, BROKEN)                                                                            \
    X(hl_test_backend_exiter, BROKEN)                                                                            \
    X(hl_test_backend_stopper, BROKEN)                                                                           \
    X(hl_test_backend_forker, BROKEN)                                                                            \
    X(hl_test_backend_tearer, BROKEN)                                                                            \
    X(hl_test_backend_scribbler, BROKEN)                                                                         \
    X(hl_test_backend_wasm_shifted, BROKEN)                                                                      \
    X(hl_test_backend_wasm_module_base2048, BROKEN)                                                              \
    X(hl_test_backend_wasm_module_trap, BROKEN)                                                                  \
    X(hl_test_backend_racy, BROKEN)                                                                              \
    X(hl_test_backend_bins_stale_reset, BROKEN)                                                                  \
    X(hl_test_backend_bins_copy, CONFORMS)                                                                       \
    X(hl_test_backend_arena_oom_unchecked, BROKEN)

#define CONFORMS true
#define BROKEN false

#define DECLARE(getter, conforms) const hl_backend *getter(void);
TEST_BACKENDS(DECLARE)
#undef DECLARE

typedef struct test_backend {
    const hl_backend *(*getter)(void);
    bool conforms;
} test_backend;

static const test_backend test_only[] = {
#define ROW(getter, conforms_) {getter, conforms_},
    TEST_BACKENDS(ROW)
#undef ROW
};

#define TEST_COUNT (sizeof test_only / sizeof test_only[0])

const hl_backend *const *hl_test_backends(size_t *count)
{
    static const hl_backend *table[TEST_COUNT];
    if (!table[0])
        for (size_t i = 0; i < TEST_COUNT; i++) table[i] = test_only[i].getter();
    *count = TEST_COUNT;
    return table;
}

bool hl_test_backend_conforms(const hl_backend *backend)
{
    size_t count;
    const hl_backend *const *table = hl_test_backends(&count);
    for (size_t i = 0; i < count; i++)
        if (table[i] == backend) return test_only[i].conforms;
    return false;
}
