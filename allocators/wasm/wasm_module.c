/* wasm_module.c: the `wasm-module` backend: the real module (build/heaplab-alloc.min.wasm,
 * `make wasm`: wasm_core.c and guest/exports.c built by clang for wasm32, linked by
 * wasm-ld, shrunk by wasm-opt -Oz) translated to C by wasm2c and run on heaplab's own
 * runtime (hl_w2c.h). Its operations are wasm_adapter.h's, the adapter the native
 * `wasm` backend uses, so the two differ only where the module and the native core
 * do: both are in the offset-exact group wasm32-core.
 *
 * Each operation is one or more calls of the module's exports (guest/exports.c):
 * alloc is `__alloc`, free `heaplab-free`, realloc seed 001's `realloc`, the scope
 * operations seed 001's, usable_size and realloc's layout check `heaplab-usable`,
 * `heaplab-size`, `heaplab-align`. A seed 001 call that fails traps (`unreachable`,
 * nothing changed): that is the operation's error, as the contract names it. Any
 * other trap (an access out of bounds, ...) is the module's fault: the operation fails
 * and check reports the trap from then on. A trap never reaches heaplab's process.
 *
 * Memory: the module's one memory is a linear-memory source (never moves, committed
 * page by page; the footprint). The instance's own struct is one mmap'ed page beside
 * it. Misuse: the core's exact checks, as `wasm`. Invariants (check): the native
 * core's walk (hlwc_check) over the module's memory, with the state at the module's
 * __heap_base; and no unexpected trap so far.
 *
 * A test build compiles a copy of this file over another module (HLWM_MODULE). */
#include "backends.h"
#include "hl_kit.h"
#include "hl_w2c.h"
#include "wasm_core.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#ifndef HLWM_MODULE /* the module's wasm2c name (-n), its generated source, this backend */
#define HLWM_MODULE heaplab_alloc
#define HLWM_SOURCE "heaplab_alloc.c"
#define HLWM_NAME "wasm-module"
#define HLWM_GETTER hl_backend_wasm_module
#endif

/* the generated code: wasm2c's C, not written to this project's warnings */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-label"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-value"
#include HLWM_SOURCE
#pragma GCC diagnostic pop

#define HLWM_CAT(a, b) a##b
#define HLWM_XCAT(a, b) HLWM_CAT(a, b)
#define MOD(suffix) HLWM_XCAT(HLWM_XCAT(Z_, HLWM_MODULE), suffix)  /* Z_<module><suffix> */
#define EXPORTED(name) MOD(HLWM_XCAT(Z_, name))                      /* Z_<module>Z_<export> */

struct hl_heap {
    hlw2c rt;
    MOD(_instance_t) module;
    hl_stats stats;
    wasm_rt_trap_t fault; /* the first trap that was not a seed 001 failure (NONE: none) */
    const char *fault_in; /* the export it happened in */
};

/* ---------------------------------------------------------------- the engine */

/* the call's trap, when it is not the `unreachable` a failing seed 001 export runs */
static void note_trap(hl_heap *h, const char *export, bool expected)
{
    if (h->rt.trap != WASM_RT_TRAP_NONE && !(expected && h->rt.trap == WASM_RT_TRAP_UNREACHABLE) &&
        h->fault == WASM_RT_TRAP_NONE) {
        h->fault = h->rt.trap;
        h->fault_in = export;
    }
}

/* one call of an export (its wasm2c-mangled name, its name) returning u32;
 * `fallback` if it trapped */
#define CALL(h, export, name, expected, fallback, ...)                              \
    uint32_t r;                                                                     \
    HLW2C_CALL(&(h)->rt, r, fallback, EXPORTED(export)(&(h)->module, __VA_ARGS__)); \
    note_trap(h, name, expected);                                                   \
    return r

static uint32_t eng_alloc(hl_heap *h, uint32_t size, uint32_t align) { CALL(h, __alloc, "__alloc", false, 0, size, align); }
static uint32_t eng_free(hl_heap *h, uint32_t ptr, uint32_t size, uint32_t align)
{
    CALL(h, heaplabZ2Dfree, "heaplab-free", false, HLWC_INVALID_POINTER, ptr, size, align);
}
static uint32_t eng_realloc(hl_heap *h, uint32_t ptr, uint32_t old_size, uint32_t new_size)
{
    CALL(h, realloc, "realloc", true, 0, ptr, old_size, new_size);
}
static uint32_t query(hl_heap *h, uint32_t which, uint32_t ptr)
{
    switch (which) {
    case 0: { CALL(h, heaplabZ2Dusable, "heaplab-usable", false, 0, ptr); }
    case 1: { CALL(h, heaplabZ2Dsize, "heaplab-size", false, 0, ptr); }
    default: { CALL(h, heaplabZ2Dalign, "heaplab-align", false, 0, ptr); }
    }
}
static uint32_t eng_block(hl_heap *h, uint32_t ptr, uint32_t *size, uint32_t *align)
{
    uint32_t usable = query(h, 0, ptr);
    if (usable && size) *size = query(h, 1, ptr);
    if (usable && align) *align = query(h, 2, ptr);
    return usable;
}
/* the seed 001 exports that return nothing: 1 if they returned, 0 if they trapped */
#define CALL_VOID(h, export, name, ...)                                                    \
    uint32_t r;                                                                            \
    HLW2C_CALL(&(h)->rt, r, 0, (EXPORTED(export)(&(h)->module, ##__VA_ARGS__), 1u));       \
    note_trap(h, name, true);                                                              \
    return r
static uint32_t copy_call(hl_heap *h, uint32_t dst, uint32_t src, uint32_t n) { CALL_VOID(h, memZ2Dcopy, "mem-copy", dst, src, n); }
static int eng_copy(hl_heap *h, uint32_t dst, uint32_t src, uint32_t n) { return copy_call(h, dst, src, n) ? 0 : -1; }
static uint32_t eng_enter(hl_heap *h)
{
    uint32_t r;
    HLW2C_CALL(&h->rt, r, 0, EXPORTED(enterZ2Dscope)(&h->module));
    note_trap(h, "enter-scope", true);
    return r;
}
static uint32_t exit_call(hl_heap *h, uint32_t handle) { CALL_VOID(h, exitZ2Dscope, "exit-scope", handle); }
static int eng_exit(hl_heap *h, uint32_t handle) { return exit_call(h, handle) ? 0 : -1; }
static uint32_t eng_promote(hl_heap *h, uint32_t handle, uint32_t ptr, uint32_t n) { CALL(h, promote, "promote", true, 0, handle, ptr, n); }
static uint32_t free_all_call(hl_heap *h) { CALL_VOID(h, freeZ2Dall, "free-all"); }
static void eng_free_all(hl_heap *h) { (void)free_all_call(h); }
static uint32_t live_call(hl_heap *h, bool bytes)
{
    uint32_t r;
    if (bytes) HLW2C_CALL(&h->rt, r, 0, EXPORTED(heaplabZ2DliveZ2Dbytes)(&h->module));
    else HLW2C_CALL(&h->rt, r, 0, EXPORTED(heaplabZ2DliveZ2Dblocks)(&h->module));
    note_trap(h, bytes ? "heaplab-live-bytes" : "heaplab-live-blocks", false);
    return r;
}
static void eng_live(const hl_heap *h, uint32_t *blocks, uint32_t *bytes)
{
    hl_heap *mutable = (hl_heap *)h; /* a call into the module writes its runtime's state */
    *blocks = live_call(mutable, false);
    *bytes = live_call(mutable, true);
}
static uint64_t eng_footprint(const hl_heap *h) { return h->rt.source.committed; }

#include "wasm_adapter.h"

/* ---------------------------------------------------------------- lifecycle */

typedef struct module_settings {
    hl_source_config source;
} module_settings;

#define MODULE_OPTIONS(X)                                                                                        \
    X("max_pages", "65535", "maximum 64 KiB pages of the module's memory (1..65535: wasm2c's memory size is a " \
      "u32)", HL_OPTION_COUNT, source.max_pages, 1, 65535, NULL, 0)

#define HL_SETTINGS module_settings
static const hl_option_doc option_docs[] = {MODULE_OPTIONS(HL_OPTION_DOC){NULL, NULL, NULL}};
static const hl_option_rule option_rules[] = {MODULE_OPTIONS(HL_OPTION_RULE)};

static hl_error module_create(const hl_config *config, hl_heap **out)
{
    module_settings settings;
    hl_source_config_init(&settings.source);
    settings.source.max_pages = 65535;
    if (hl_options_apply(config, HLWM_NAME, option_docs, option_rules, &settings) != HL_E_OK) return HL_E_INVALID_ARGUMENT;
    hl_heap *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED) return hl_config_say(config, "%s: %s", HLWM_NAME, "no memory for the instance"), HL_E_OUT_OF_MEMORY;
    char why[200];
    hl_error e = hlw2c_open(&h->rt, settings.source.max_pages, (config->hints & HL_HINT_SPARSE) != 0, why, sizeof why);
    if (e != HL_E_OK) {
        munmap(h, sizeof *h);
        return hl_config_say(config, "%s: %s", HLWM_NAME, why), e;
    }
    hlw2c_init_once(MOD(_init_module));
    uint32_t made;
    HLW2C_CALL(&h->rt, made, 0, (MOD(_instantiate)(&h->module), 1u));
    if (!made) {
        hlw2c_close(&h->rt);
        munmap(h, sizeof *h);
        return hl_config_say(config, "%s: %s", HLWM_NAME, "the module's memory cannot be made"), HL_E_OUT_OF_MEMORY;
    }
    h->fault = WASM_RT_TRAP_NONE;
    (void)live_call(h, false); /* the module builds its heap on its first call: now, as `wasm` does in create */
    note_footprint(h);
    *out = h;
    return HL_E_OK;
}

static void module_destroy(hl_heap *h)
{
    MOD(_free)(&h->module);
    hlw2c_close(&h->rt);
    munmap(h, sizeof *h);
}

static void module_describe(const hl_heap *h, hl_info *info)
{
    (void)h;
    wasm_describe_as(info, HLWM_NAME); /* the same core as `wasm`, run as the real module */
}

static void *module_mem_view(hl_heap *h, hl_addr addr, size_t len) { return hl_source_host(&h->rt.source, addr, len); }

static hl_error module_check(hl_heap *h, char *message, size_t capacity)
{
    if (h->fault != WASM_RT_TRAP_NONE) {
        snprintf(message, capacity, "%s: the module trapped in %s: %s", HLWM_NAME, h->fault_in, hlw2c_trap_name(h->fault));
        return HL_E_CORRUPTED;
    }
    uint32_t base = *EXPORTED(__heap_base)(&h->module);
    return wasm_check_memory(HLWM_NAME, h->rt.source.host, base, (uint32_t)(h->rt.source.committed / HL_LINEAR_PAGE),
                             message, capacity);
}

const hl_backend *HLWM_GETTER(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, HLWM_NAME, HL_CLASS_REFERENCE,
        "the wasm backend's real .wasm module (make wasm), translated by wasm2c, on heaplab's runtime",
        option_docs, module_create, module_destroy, module_describe, wasm_alloc, wasm_free, wasm_realloc,
        wasm_usable_size, module_mem_view, wasm_mem_copy, wasm_enter_scope, wasm_exit_scope, wasm_promote,
        wasm_free_all, NULL, NULL, NULL, NULL, wasm_stats, module_check};
    return &table;
}
