/* wasm.c: the `wasm` reference backend: the freestanding core (wasm_core.c) over a
 * linear-memory source (64 KiB pages, memory.grow semantics, max_pages, u32 offsets,
 * heap base 1024), and the two guest surfaces of hl_wasm.h as thin functions over
 * the contract operations.
 *
 * Memory of an instance: [0, 16) unused (0 is never a block); [16, 1024) this
 * adapter's own state (the source, the grow callback, the operation counters);
 * from 1024 the core's state and heap (see wasm_core.c for the allocator: boundary
 * tags, 108 segregated free lists, a block table that makes the live check exact,
 * native scopes). Everything counts in the footprint, which is the source's
 * committed pages. The core's bytes do not depend on where the host mapped the
 * memory, so a real .wasm build of wasm_core.c hands out the same offsets.
 *
 * Misuse: INVALID_POINTER, DOUBLE_FREE and LAYOUT_MISMATCH. Only a live block's
 * free is accepted, and the block table, never a pattern in the heap, decides which
 * pointer is one. A double free is known by the freed chunk's start while it still
 * starts a free chunk (its free list names it); once merged into its predecessor,
 * handed out again, or after free_all, it is an INVALID_POINTER, which the contract
 * accepts for a double free. No access misuse: the linear memory has no guard pages.
 *
 * The adapter adds layout checks the core does not need (caps, alignment limits,
 * sizes beyond u32), counts calls and failures, and turns the core's 0 / -1 into
 * named errors. Its cost is O(1) on top of the core's. Invariants (wasm_check): the
 * core's, the memory's size being the source's committed pages. */
#include "hl_wasm.h"
#include "backends.h"
#include "hl_kit.h"
#include "wasm_core.h"

#include <stdio.h>
#include <string.h>

#define WASM_STATE_AT 16u /* this adapter's state, below the heap base */
#ifndef HL_WASM_NAME /* test builds compile a copy whose heap starts elsewhere (tests/backends/) */
#define HL_WASM_NAME "wasm"
#define HL_WASM_GETTER hl_backend_wasm
#define HL_WASM_HEAP_BASE HL_LINEAR_HEAP_BASE
#endif
#ifndef HL_WASM_SUMMARY
#define HL_WASM_SUMMARY "wasm32 linear memory: boundary tags, segregated free lists, misuse checks by a block table, native scopes"
#endif

struct hl_heap {
    hl_source source;
    hlwc_mem mem;
    hl_stats stats;
    hl_error trap; /* why the last seed 001 call trapped */
};
_Static_assert(WASM_STATE_AT + sizeof(struct hl_heap) <= HL_LINEAR_HEAP_BASE,
               "the adapter's state must fit below the heap base");

/* the engine of wasm_adapter.h: the core over this instance's memory */
static uint32_t eng_alloc(hl_heap *h, uint32_t size, uint32_t align) { return hlwc_alloc(&h->mem, size, align); }
static uint32_t eng_free(hl_heap *h, uint32_t ptr, uint32_t size, uint32_t align) { return hlwc_free(&h->mem, ptr, size, align); }
static uint32_t eng_realloc(hl_heap *h, uint32_t ptr, uint32_t old_size, uint32_t new_size)
{
    return hlwc_realloc(&h->mem, ptr, old_size, new_size);
}
static uint32_t eng_block(hl_heap *h, uint32_t ptr, uint32_t *size, uint32_t *align) { return hlwc_block(&h->mem, ptr, size, align); }
static int eng_copy(hl_heap *h, uint32_t dst, uint32_t src, uint32_t n) { return hlwc_copy(&h->mem, dst, src, n); }
static uint32_t eng_enter(hl_heap *h) { return hlwc_enter(&h->mem); }
static int eng_exit(hl_heap *h, uint32_t handle) { return hlwc_exit(&h->mem, handle); }
static uint32_t eng_promote(hl_heap *h, uint32_t handle, uint32_t ptr, uint32_t n) { return hlwc_promote(&h->mem, handle, ptr, n); }
static void eng_free_all(hl_heap *h) { hlwc_free_all(&h->mem); }
static void eng_live(const hl_heap *h, uint32_t *blocks, uint32_t *bytes) { hlwc_stats(&h->mem, blocks, bytes); }
static uint64_t eng_footprint(const hl_heap *h) { return h->source.committed; }

#include "wasm_adapter.h"

/* memory.grow over the source: the old page count, or -1 with nothing changed */
static int32_t grow_pages(void *ctx, uint32_t pages)
{
    hl_heap *h = ctx;
    return (int32_t)hl_source_grow_pages(&h->source, pages);
}

/* ---------------------------------------------------------------- lifecycle */

/* wasm's memory is always linear: of the source options it takes max_pages only */
typedef struct wasm_settings {
    hl_source_config source;
} wasm_settings;

#define WASM_OPTIONS(X)                                                                                          \
    X("max_pages", "65536", "maximum 64 KiB pages of the linear memory (1..65536; the last page of a full "     \
      "4 GiB memory is never used, so every offset fits a u32)", HL_OPTION_COUNT, source.max_pages, 1,          \
      HL_LINEAR_MAX_PAGES, NULL, 0)

#define HL_SETTINGS wasm_settings
static const hl_option_doc option_docs[] = {WASM_OPTIONS(HL_OPTION_DOC){NULL, NULL, NULL}};
static const hl_option_rule option_rules[] = {WASM_OPTIONS(HL_OPTION_RULE)};

static hl_error wasm_create(const hl_config *config, hl_heap **out)
{
    wasm_settings settings;
    hl_source_config_init(&settings.source);
    settings.source.kind = HL_SOURCE_LINEAR;
    if (hl_options_apply(config, HL_WASM_NAME, option_docs, option_rules, &settings) != HL_E_OK) return HL_E_INVALID_ARGUMENT;
    char why[200];
    hl_source source;
    settings.source.sparse = (config->hints & HL_HINT_SPARSE) != 0;
    hl_error e = hl_source_open(&source, &settings.source, NULL, 0, HL_WASM_HEAP_BASE, why, sizeof why);
    if (e != HL_E_OK) return hl_config_say(config, "wasm: %s", why), e;
    hl_heap *h = hl_source_host(&source, WASM_STATE_AT, sizeof *h);
    memset(h, 0, sizeof *h);
    h->source = source;
    h->mem = (hlwc_mem){source.host, grow_pages, h, HL_WASM_HEAP_BASE};
    if (hlwc_init(&h->mem, (uint32_t)(source.committed / HL_LINEAR_PAGE)) != 0) {
        hl_source_close(&source);
        return hl_config_say(config, "wasm: %s", "the heap state does not fit in the first page"), HL_E_OUT_OF_MEMORY;
    }
    note_footprint(h);
    *out = h;
    return HL_E_OK;
}

static void wasm_destroy(hl_heap *h)
{
    hl_source source = h->source; /* the state lives inside the memory it releases */
    hl_source_close(&source);
}

static void wasm_describe(const hl_heap *h, hl_info *info)
{
    (void)h;
    wasm_describe_as(info, HL_WASM_NAME);
}

/* ---------------------------------------------------------------- operations (wasm_adapter.h) */

static void *wasm_mem_view(hl_heap *h, hl_addr addr, size_t len) { return hl_source_host(&h->source, addr, len); }

static hl_error wasm_check(hl_heap *h, char *message, size_t capacity)
{
    return wasm_check_memory(HL_WASM_NAME, h->source.host, HL_WASM_HEAP_BASE, (uint32_t)(h->source.committed / HL_LINEAR_PAGE),
                             message, capacity);
}

const hl_backend *HL_WASM_GETTER(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, HL_WASM_NAME, HL_CLASS_REFERENCE,
        HL_WASM_SUMMARY,
        option_docs, wasm_create, wasm_destroy, wasm_describe, wasm_alloc, wasm_free, wasm_realloc,
        wasm_usable_size, wasm_mem_view, wasm_mem_copy, wasm_enter_scope, wasm_exit_scope, wasm_promote,
        wasm_free_all, NULL, NULL, NULL, NULL, wasm_stats, wasm_check};
    return &table;
}

#ifndef HL_WASM_NO_SURFACES /* a test-only copy of the backend leaves the surfaces to the real one */
/* ---------------------------------------------------------------- seed 001 surface */

/* records why a seed 001 call trapped (or OK), passing its result through */
static uint32_t trapped(hl_heap *h, uint32_t result, hl_error why)
{
    h->trap = result ? HL_E_OK : why;
    return result;
}

uint32_t hl_wasm_alloc(hl_heap *heap, uint32_t size)
{
    hl_error e = HL_E_OK;
    uint32_t p = (uint32_t)wasm_alloc(heap, (hl_layout){size, 1}, HL_CAP_NONE, &e);
    return trapped(heap, p, e);
}

uint32_t hl_wasm_realloc(hl_heap *heap, uint32_t old_ptr, uint32_t old_size, uint32_t new_size)
{
    uint32_t align = 1;
    if (old_ptr) hlwc_block(&heap->mem, old_ptr, NULL, &align); /* not live: realloc says so */
    hl_error e = HL_E_OK;
    uint32_t p = (uint32_t)wasm_realloc(heap, old_ptr, (hl_layout){old_size, align}, new_size, &e);
    return trapped(heap, p, e);
}

bool hl_wasm_mem_copy(hl_heap *heap, uint32_t dst, uint32_t src, uint32_t n)
{
    hl_error e = wasm_mem_copy(heap, dst, src, n);
    return trapped(heap, e == HL_E_OK, e);
}

uint32_t hl_wasm_enter_scope(hl_heap *heap)
{
    hl_scope handle = 0;
    hl_error e = wasm_enter_scope(heap, &handle);
    return trapped(heap, (uint32_t)handle, e);
}

bool hl_wasm_exit_scope(hl_heap *heap, uint32_t handle)
{
    hl_error e = wasm_exit_scope(heap, handle);
    return trapped(heap, e == HL_E_OK, e);
}

uint32_t hl_wasm_promote(hl_heap *heap, uint32_t handle, uint32_t ptr, uint32_t size)
{
    uint32_t old_size = 0, align = 1;
    hlwc_block(&heap->mem, ptr, &old_size, &align); /* not live: promote says so */
    hl_error e = HL_E_OK;
    uint32_t p = (uint32_t)wasm_promote(heap, handle, ptr, (hl_layout){old_size, align}, size, &e);
    return trapped(heap, p, e);
}

void hl_wasm_free_all(hl_heap *heap)
{
    wasm_free_all(heap);
    heap->trap = HL_E_OK;
}

hl_error hl_wasm_trap(const hl_heap *heap) { return heap->trap; }

/* ---------------------------------------------------------------- seed 004 surface */

uint32_t hl_wasm___alloc(hl_heap *heap, uint32_t len, uint32_t align)
{
    hl_error e = HL_E_OK;
    return (uint32_t)wasm_alloc(heap, (hl_layout){len, align}, HL_CAP_NONE, &e);
}

uint32_t hl_wasm___free(hl_heap *heap, uint32_t ptr, uint32_t len) { return free_code(heap, ptr, len, 0); }

void *hl_wasm_mut_mem(hl_heap *heap, uint32_t ptr, uint32_t len) { return wasm_mem_view(heap, ptr, len); }
#endif
