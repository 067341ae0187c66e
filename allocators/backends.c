/* backends.c: the list of built-in backends. Adding a backend = its file + one line
 * here (and its getter in backends.h). Test builds (build/VARIANT/heaplab-test and the
 * unit tests) link tests/backends/registry.c, whose hl_test_backends appends the
 * test-only backends of tests/backends/ and the planted-bug mutants of fuzz/mutants/,
 * which never appear in `refs` or `all`. */
#include "backends.h"

#include <stdbool.h>

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
    hl_backend_wasm_module,
    hl_backend_libc,
    hl_backend_jemalloc,
    hl_backend_mimalloc,
    hl_backend_tcmalloc,
};

#define BUILTIN_COUNT (sizeof builtin / sizeof builtin[0])

/* Built in, but run only when named: never in `refs` or `all`, nor in the conformance
 * suite. wasm-lean has no scopes and no misuse checks, by design; wasm-v8 starts a
 * Node.js process per instance and shows no bytes. The differential tests hold each to
 * its offset-exact group instead. */
static const backend_getter on_request[] = {
    hl_backend_wasm_lean,
    hl_backend_wasm_v8,
};

#define ON_REQUEST_COUNT (sizeof on_request / sizeof on_request[0])

#define TABLE_MAX 64

static const hl_backend *table[TABLE_MAX];
static size_t table_count;

const hl_backend *const *hl_registry(size_t *count)
{
    if (!table_count) {
        for (size_t i = 0; i < BUILTIN_COUNT; i++) table[table_count++] = builtin[i]();
        for (size_t i = 0; i < ON_REQUEST_COUNT; i++) table[table_count++] = on_request[i]();
        size_t extra = 0;
        const hl_backend *const *tests = hl_test_backends ? hl_test_backends(&extra) : NULL;
        for (size_t i = 0; i < extra && table_count < TABLE_MAX; i++) table[table_count++] = tests[i];
    }
    *count = table_count;
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
    for (size_t i = BUILTIN_COUNT + ON_REQUEST_COUNT; i < count; i++)
        if (all[i] == backend) return true;
    return false;
}

bool hl_registry_on_request(const hl_backend *backend)
{
    for (size_t i = 0; i < ON_REQUEST_COUNT; i++)
        if (on_request[i]() == backend) return true;
    return false;
}

bool hl_registry_conforms(const hl_backend *backend)
{
    if (hl_registry_on_request(backend)) return false;
    if (!hl_registry_is_test_only(backend)) return true;
    return hl_test_backend_conforms && hl_test_backend_conforms(backend);
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
