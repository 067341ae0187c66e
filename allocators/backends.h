/* backends.h: the list of built-in backends (SQLite's sqliteInt.h role): each
 * backend file's getter and the registry over them (backends.c). Internal to heaplab:
 * the contract header (include/heaplab.h) names no backend. Adding a backend = its
 * file + one line in backends.c's list + its getter here. */
#ifndef HL_BACKENDS_H
#define HL_BACKENDS_H

#include "heaplab.h"

/* Each built-in backend file exports exactly its getter. */
const hl_backend *hl_backend_bins(void);
const hl_backend *hl_backend_arena(void);
const hl_backend *hl_backend_guard(void);
const hl_backend *hl_backend_caps(void);
const hl_backend *hl_backend_wasm(void);
/* wasm-module: the real .wasm module of `wasm`'s core, translated by wasm2c (wasm_module.c). */
const hl_backend *hl_backend_wasm_module(void);
/* wasm-lean: the lean core's native twin (wasm_lean.c); on request only. */
const hl_backend *hl_backend_wasm_lean(void);
/* wasm-v8: the same module run by V8 in a Node.js process (wasm_v8.c); on request only. */
const hl_backend *hl_backend_wasm_v8(void);
const hl_backend *hl_backend_libc(void);
/* malloc:PREFIX@LIB: a malloc-style shared library (options lib=, prefix=, min_align=). */
const hl_backend *hl_backend_malloc_lib(void);
/* The allocators people use (foreign/jemalloc.c, mimalloc.c, tcmalloc.c), loaded RTLD_LOCAL on first create;
 * create is UNSUPPORTED where the library is missing or cannot load. */
const hl_backend *hl_backend_jemalloc(void);
const hl_backend *hl_backend_mimalloc(void);
const hl_backend *hl_backend_tcmalloc(void);

/* The built-in backends, in listing order, then the test build's test backends (a
 * test build links a definition of hl_test_backends; the product has none). */
const hl_backend *const *hl_registry(size_t *count);
/* The built-in backend called name, or NULL. */
const hl_backend *hl_registry_find(const char *name);
/* True for backends that exist only in test builds (never in `all`). */
bool hl_registry_is_test_only(const hl_backend *backend);
/* True for built-in backends run only when named (never in `refs` or `all`). */
bool hl_registry_on_request(const hl_backend *backend);
/* True for the backends the conformance suite runs: every built-in, and the test-only
 * backends that declare they honour the whole contract (hl_test_backend_conforms). */
bool hl_registry_conforms(const hl_backend *backend);
/* The peer backends are libraries opened at run time; Debian's jemalloc uses
 * initial-exec TLS and loads only if glibc reserved static TLS room at process start
 * (allocators/foreign/jemalloc.c). Call first thing in main: unless GLIBC_TUNABLES already has
 * glibc.rtld.optional_static_tls, re-executes the program (argv, /proc/self/exe) once
 * with =16384 added. Returns only if nothing was needed or the exec failed (then only
 * jemalloc's create fails, saying why). */
void hl_registry_reserve_tls(char **argv);


/* Test builds only (tests/backends/registry.c): the test-only backends, appended to
 * the registry and never in `refs` or `all`. A weak reference: NULL in the product. */
const hl_backend *const *hl_test_backends(size_t *count) __attribute__((weak));
/* Test builds only: whether a test-only backend honours the whole contract. */
bool hl_test_backend_conforms(const hl_backend *backend) __attribute__((weak));

#endif /* HL_BACKENDS_H */
