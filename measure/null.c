/* null.c: the null backend (hl_measure.h): the measure path over it times heaplab's
 * own work per operation (the loop, the step, the slot, the indirect call, the first
 * byte written) with an allocator that does nothing. Every alloc and realloc gets the
 * next of 64 cache lines of one static buffer (aligned up within it, for alignments up
 * to 4 KiB); free, scopes and free_all do nothing. Blocks overlap: this is not an
 * allocator, and it is reachable only through hl_speed_null_spec, never by name. */
#include "hl_measure.h"

#include <string.h>

#define LINES 64u
#define LINE 64u
#define MAX_ALIGN 4096u

struct hl_heap {
    unsigned next;
    hl_stats stats;
    bool direct; /* created with the measure path's hints: it offers null_direct */
};

static _Alignas(MAX_ALIGN) unsigned char buffer[LINES * LINE + 2 * MAX_ALIGN];
static struct hl_heap instance;

/* its own entry points (hl_info.direct): the same lines, no alignment asked beyond a line's */
static void *direct_malloc(size_t size)
{
    (void)size;
    return &buffer[(instance.next++ % LINES) * LINE];
}
static void direct_free(void *block) { (void)block; }
static void *direct_realloc(void *block, size_t size)
{
    (void)block;
    return direct_malloc(size);
}
static const hl_direct null_direct = {direct_malloc, direct_free, direct_realloc, SIZE_MAX, 6, false};

static hl_error null_create(const hl_config *config, hl_heap **out)
{
    memset(&instance, 0, sizeof instance);
    uint32_t all = HL_HINT_ONE_THREAD | HL_HINT_CALLER_FREES | HL_HINT_NO_STATS;
    instance.direct = (config->hints & all) == all;
    *out = &instance;
    return HL_E_OK;
}
static void null_destroy(hl_heap *h) { (void)h; }
static void null_describe(const hl_heap *h, hl_info *info)
{
    memset(info, 0, sizeof *info);
    info->name = "null";
    info->backend_class = HL_CLASS_REFERENCE;
    info->min_align = 1;
    info->max_align = MAX_ALIGN;
    info->features = HL_FEATURE_INPLACE_REALLOC;
    info->source = "none (heaplab's own cost)";
    info->page_size = 4096;
    if (h->direct) info->direct = &null_direct;
}
static hl_addr null_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    if (caps || layout.align > MAX_ALIGN) return *error = HL_E_UNSUPPORTED, 0;
    uintptr_t at = (uintptr_t)&buffer[(h->next++ % LINES) * LINE];
    return (at + layout.align - 1) & ~(uintptr_t)(layout.align - 1);
}
static hl_error null_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    (void)h, (void)block, (void)layout;
    return HL_E_OK;
}
static hl_addr null_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    (void)block, (void)size;
    return null_alloc(h, old, HL_CAP_NONE, error);
}
static size_t null_usable(hl_heap *h, hl_addr block, hl_layout layout)
{
    (void)h, (void)block;
    return layout.size;
}
/* bounds-checked, as the contract asks: a touch longer than the buffer has no view */
static void *null_view(hl_heap *h, hl_addr addr, size_t len)
{
    (void)h;
    uintptr_t start = (uintptr_t)buffer, end = start + sizeof buffer;
    return addr >= start && addr <= end && len <= end - addr ? (void *)addr : NULL;
}
static hl_error null_copy(hl_heap *h, hl_addr dst, hl_addr src, size_t n)
{
    (void)h, (void)dst, (void)src, (void)n;
    return HL_E_OK;
}
static hl_error null_enter(hl_heap *h, hl_scope *out)
{
    (void)h;
    *out = 1;
    return HL_E_OK;
}
static hl_error null_exit(hl_heap *h, hl_scope scope)
{
    (void)h, (void)scope;
    return HL_E_OK;
}
static hl_addr null_promote(hl_heap *h, hl_scope scope, hl_addr block, hl_layout layout, size_t n, hl_error *error)
{
    (void)h, (void)scope, (void)layout, (void)n, (void)error;
    return block;
}
static hl_error null_free_all(hl_heap *h)
{
    (void)h;
    return HL_E_OK;
}
static void null_stats(const hl_heap *h, hl_stats *stats) { *stats = h->stats; }
static hl_error null_check(hl_heap *h, char *message, size_t capacity)
{
    (void)h, (void)message, (void)capacity;
    return HL_E_OK;
}

static const hl_backend null_backend = {
    sizeof(hl_backend), HL_CONTRACT_VERSION, "null", HL_CLASS_REFERENCE,
    "does no work: heaplab's own cost per operation", NULL, null_create, null_destroy, null_describe, null_alloc,
    null_free, null_realloc, null_usable, null_view, null_copy, null_enter, null_exit, null_promote, null_free_all,
    NULL, NULL, NULL, NULL, null_stats, null_check};

const hl_spec *hl_speed_null_spec(void)
{
    static hl_spec spec = {.text = "null", .label = "null", .backend = &null_backend};
    return &spec;
}
