/* registry.c: the list of built-in backends. Adding a backend = its file + one line
 * here. Test builds (HL_TEST_BACKENDS, build/VARIANT/heaplab-test) append the test-only
 * backends of tests/backends/ and the planted-bug mutants of fuzz/mutants/, which
 * never appear in `refs` or `all`. */
#include "hl_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef const hl_backend *(*backend_getter)(void);

static const backend_getter builtin[] = {
    hl_backend_bins,
    hl_backend_arena,
    hl_backend_guard,
    hl_backend_caps,
    hl_backend_wasm,
    hl_backend_libc,
    hl_backend_jemalloc,
    hl_backend_mimalloc,
    hl_backend_tcmalloc,
};

#ifdef HL_TEST_BACKENDS
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
    hl_test_backend_wasm_shifted,
    hl_test_backend_racy,
};
#define TEST_COUNT (sizeof test_only / sizeof test_only[0])
#else
#define TEST_COUNT 0
#endif

#define BUILTIN_COUNT (sizeof builtin / sizeof builtin[0])

static const hl_backend *table[BUILTIN_COUNT + TEST_COUNT + 1];

const hl_backend *const *hl_registry(size_t *count)
{
    if (!table[0]) {
        for (size_t i = 0; i < BUILTIN_COUNT; i++) table[i] = builtin[i]();
#ifdef HL_TEST_BACKENDS
        for (size_t i = 0; i < TEST_COUNT; i++) table[BUILTIN_COUNT + i] = test_only[i]();
#endif
    }
    *count = BUILTIN_COUNT + TEST_COUNT;
    return table;
}

const hl_backend *hl_registry_find(const char *name)
{
    size_t count;
    const hl_backend *const *all = hl_registry(&count);
    for (size_t i = 0; i < count; i++)
        if (strcmp(all[i]->name, name) == 0) return all[i];
    return NULL;
}

bool hl_registry_is_test_only(const hl_backend *backend)
{
    size_t count;
    const hl_backend *const *all = hl_registry(&count);
    for (size_t i = BUILTIN_COUNT; i < count; i++)
        if (all[i] == backend) return true;
    return false;
}

#define STATIC_TLS_TUNABLE "glibc.rtld.optional_static_tls=16384"

void hl_registry_reserve_tls(char **argv)
{
    const char *tunables = getenv("GLIBC_TUNABLES");
    if ((tunables && strstr(tunables, "glibc.rtld.optional_static_tls")) || getenv("HEAPLAB_REEXECUTED")) return;
    char value[1024];
    if (tunables && *tunables) snprintf(value, sizeof value, "%s:%s", tunables, STATIC_TLS_TUNABLE);
    else snprintf(value, sizeof value, "%s", STATIC_TLS_TUNABLE);
    if (setenv("GLIBC_TUNABLES", value, 1) != 0 || setenv("HEAPLAB_REEXECUTED", "1", 1) != 0) return;
    execv("/proc/self/exe", argv);
    unsetenv("HEAPLAB_REEXECUTED"); /* could not: go on without */
}
