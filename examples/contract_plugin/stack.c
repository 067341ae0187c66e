/* stack.c: an example contract plugin, `--backends ./build/examples/libstack.so`: a
 * backend written outside heaplab against the contract header alone, exporting
 * heaplab_backend(). A stack (bump) allocator with native scopes: every block has a
 * 32-byte header linking it to the block below; free takes back the top blocks,
 * a block freed lower down stays until everything above it goes; a scope is a mark,
 * and exiting it drops everything above the mark in O(blocks above). promote moves
 * the survivor down to the mark (memmove) after making sure it fits, so a failure
 * changes nothing. A realloc that would have to move a block of an outer scope to the
 * top is OUT_OF_MEMORY (the contract allows it anywhere): the top belongs to the
 * innermost scope. Detects no misuse.
 *
 * Invariants (checked by stack_check): the header chain from the top reaches the
 * bottom with decreasing addresses; every header's level is at most the depth; the
 * live headers add up to the stats; marks increase with the level. */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "heaplab.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define REGION (64u << 20)
#define HEADER 32u
#define MAX_DEPTH 64
#define MAX_ALIGN 4096u
#define NONE ((size_t)-1)

typedef struct header {
    size_t size;  /* requested size */
    size_t below; /* offset of the header below, or NONE */
    uint32_t live, level;
    uint64_t pad;
} header;

struct hl_heap {
    char *base;         /* REGION bytes, reserved; the instance state is not in it */
    size_t top;         /* offset of the first free byte */
    size_t last;        /* offset of the top header, or NONE */
    uint32_t depth;
    size_t marks[MAX_DEPTH + 1]; /* marks[l]: top and last when level l was entered */
    size_t mark_last[MAX_DEPTH + 1];
    hl_scope handles[MAX_DEPTH + 1];
    hl_scope serial;
    hl_stats stats;
};

const hl_backend *heaplab_backend(void);

static header *at(hl_heap *h, size_t offset) { return (header *)(h->base + offset); }
static header *of(hl_addr block) { return (header *)((char *)block - HEADER); }

static hl_error stack_create(const hl_config *config, hl_heap **out)
{
    if (config->option_count) {
        if (config->error_message) snprintf(config->error_message, config->error_capacity, "stack: no options");
        return HL_E_INVALID_ARGUMENT;
    }
    hl_heap *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *base = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (h == MAP_FAILED || base == MAP_FAILED) return HL_E_OUT_OF_MEMORY;
    memset(h, 0, sizeof *h);
    h->base = base;
    h->last = NONE;
    *out = h;
    return HL_E_OK;
}

static void stack_destroy(hl_heap *h)
{
    munmap(h->base, REGION);
    munmap(h, sizeof *h);
}

static void stack_describe(const hl_heap *h, hl_info *info)
{
    (void)h;
    memset(info, 0, sizeof *info);
    info->name = "stack";
    info->backend_class = HL_CLASS_FOREIGN;
    info->min_align = 16;
    info->max_align = MAX_ALIGN;
    info->features = HL_FEATURE_NATIVE_SCOPES | HL_FEATURE_INPLACE_REALLOC;
    info->source = "os";
    info->page_size = 4096;
}

/* Counts a block in (+1) or out (-1) and follows the footprint (the bytes in use). */
static void note(hl_heap *h, int sign, size_t size)
{
    h->stats.live_blocks += (uint64_t)(int64_t)sign;
    h->stats.live_bytes += (uint64_t)((int64_t)sign * (int64_t)size);
    h->stats.footprint = h->top;
    if (h->top > h->stats.peak_footprint) h->stats.peak_footprint = h->top;
}

/* Where a block of layout would start on top (offset of its bytes), or NONE. */
static size_t fit(size_t from, hl_layout layout)
{
    size_t align = layout.align < 16 ? 16 : layout.align;
    size_t start = (from + HEADER + align - 1) & ~(align - 1);
    if (layout.size > REGION || start + layout.size > REGION) return NONE;
    return start;
}

static hl_addr push(hl_heap *h, size_t start, size_t size, uint32_t level)
{
    header *x = at(h, start - HEADER);
    *x = (header){size, h->last, 1, level, 0};
    h->last = start - HEADER;
    h->top = (start + size + 15) & ~(size_t)15;
    note(h, +1, size);
    return (hl_addr)(h->base + start);
}

static hl_addr fail(hl_heap *h, hl_stat_op op, hl_error *error, hl_error e)
{
    h->stats.failures[op]++;
    *error = e;
    return 0;
}

static hl_addr stack_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    h->stats.calls[HL_STAT_alloc]++;
    if (!layout.align || (layout.align & (layout.align - 1))) return fail(h, HL_STAT_alloc, error, HL_E_INVALID_ARGUMENT);
    if (caps || layout.align > MAX_ALIGN) return fail(h, HL_STAT_alloc, error, HL_E_UNSUPPORTED);
    size_t start = fit(h->top, layout);
    if (start == NONE) return fail(h, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    return push(h, start, layout.size, h->depth);
}

/* Drops dead headers from the top, down to the current scope's mark. */
static void pop_dead(hl_heap *h)
{
    size_t floor = h->depth ? h->marks[h->depth] : 0;
    while (h->last != NONE && !at(h, h->last)->live && h->last >= floor) {
        h->top = h->last;
        h->last = at(h, h->last)->below;
    }
}

static hl_error stack_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    h->stats.calls[HL_STAT_free]++;
    if (!block) return HL_E_OK;
    of(block)->live = 0;
    note(h, -1, layout.size);
    pop_dead(h);
    return HL_E_OK;
}

static hl_addr stack_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    if (!block) return stack_alloc(h, (hl_layout){size, old.align}, HL_CAP_NONE, error);
    h->stats.calls[HL_STAT_realloc]++;
    header *x = of(block);
    size_t start = (size_t)((char *)block - h->base);
    bool on_top = h->last == start - HEADER && x->level == h->depth; /* an outer block may not grow past a mark */
    if (size <= old.size || (on_top && size <= REGION - start)) { /* in place */
        x->size = size;
        if (on_top) h->top = (start + size + 15) & ~(size_t)15;
        h->stats.live_bytes += size - old.size;
        note(h, 0, 0);
        return block;
    }
    size_t fresh = x->level == h->depth ? fit(h->top, (hl_layout){size, old.align}) : NONE;
    if (fresh == NONE) return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    hl_addr moved = push(h, fresh, size, h->depth);
    memcpy((void *)moved, (void *)block, old.size);
    stack_free(h, block, old);
    h->stats.calls[HL_STAT_free]--; /* not a call of the caller's */
    return moved;
}

static size_t stack_usable_size(hl_heap *h, hl_addr block, hl_layout layout)
{
    (void)h, (void)block;
    return layout.size;
}

static void *stack_mem_view(hl_heap *h, hl_addr addr, size_t len)
{
    size_t offset = (size_t)((char *)addr - h->base);
    return addr >= (hl_addr)h->base && offset <= REGION && len <= REGION - offset ? (void *)addr : NULL;
}

static hl_error stack_mem_copy(hl_heap *h, hl_addr dst, hl_addr src, size_t n)
{
    h->stats.calls[HL_STAT_mem_copy]++;
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    for (size_t i = 0; i < n; i++) d[i] = s[i]; /* forward, as the contract says */
    return HL_E_OK;
}

static hl_error stack_enter_scope(hl_heap *h, hl_scope *out)
{
    h->stats.calls[HL_STAT_enter_scope]++;
    if (h->depth == MAX_DEPTH) return h->stats.failures[HL_STAT_enter_scope]++, HL_E_OUT_OF_MEMORY;
    h->depth++;
    h->marks[h->depth] = h->top;
    h->mark_last[h->depth] = h->last;
    h->handles[h->depth] = *out = ++h->serial;
    return HL_E_OK;
}

static uint32_t level_of(const hl_heap *h, hl_scope scope)
{
    for (uint32_t l = h->depth; l > 0; l--)
        if (h->handles[l] == scope) return l;
    return 0;
}

/* Drops every block above level's mark and closes level and the ones inside it. */
static void close_from(hl_heap *h, uint32_t level)
{
    for (size_t x = h->last; x != NONE && x >= h->marks[level]; x = at(h, x)->below)
        if (at(h, x)->live) note(h, -1, at(h, x)->size);
    h->top = h->marks[level];
    h->last = h->mark_last[level];
    h->depth = level - 1;
    note(h, 0, 0);
}

static hl_error stack_exit_scope(hl_heap *h, hl_scope scope)
{
    h->stats.calls[HL_STAT_exit_scope]++;
    uint32_t level = level_of(h, scope);
    if (!level) return h->stats.failures[HL_STAT_exit_scope]++, HL_E_INVALID_ARGUMENT;
    close_from(h, level);
    pop_dead(h);
    return HL_E_OK;
}

static hl_addr stack_promote(hl_heap *h, hl_scope scope, hl_addr block, hl_layout layout, size_t n, hl_error *error)
{
    h->stats.calls[HL_STAT_promote]++;
    uint32_t level = level_of(h, scope);
    if (!level || !block || of(block)->level < level || n > layout.size)
        return fail(h, HL_STAT_promote, error, HL_E_INVALID_ARGUMENT);
    size_t start = fit(h->marks[level], (hl_layout){n, layout.align});
    if (start == NONE) return fail(h, HL_STAT_promote, error, HL_E_OUT_OF_MEMORY);
    close_from(h, level); /* the survivor's bytes stay where they are until moved */
    memmove(h->base + start, (void *)block, n);
    return push(h, start, n, h->depth);
}

static hl_error stack_free_all(hl_heap *h)
{
    h->stats.calls[HL_STAT_free_all]++;
    h->top = 0;
    h->last = NONE;
    h->depth = 0;
    h->stats.live_blocks = h->stats.live_bytes = 0;
    h->stats.footprint = h->stats.peak_footprint = 0;
    return HL_E_OK;
}

static void stack_stats(const hl_heap *h, hl_stats *stats) { *stats = h->stats; }

static hl_error stack_check(hl_heap *h, char *message, size_t capacity)
{
    uint64_t blocks = 0, bytes = 0;
    size_t above = h->top + 1;
    for (size_t x = h->last; x != NONE; x = at(h, x)->below) {
        if (x >= above || x + HEADER > h->top) {
            snprintf(message, capacity, "header at %zu is not below the one above (%zu)", x, above);
            return HL_E_CORRUPTED;
        }
        if (at(h, x)->level > h->depth) {
            snprintf(message, capacity, "header at %zu has level %u above the depth %u", x, at(h, x)->level, h->depth);
            return HL_E_CORRUPTED;
        }
        if (at(h, x)->live) blocks++, bytes += at(h, x)->size;
        above = x;
    }
    if (blocks != h->stats.live_blocks || bytes != h->stats.live_bytes) {
        snprintf(message, capacity, "the headers hold %llu live blocks (%llu bytes), the stats %llu (%llu)",
                 (unsigned long long)blocks, (unsigned long long)bytes, (unsigned long long)h->stats.live_blocks,
                 (unsigned long long)h->stats.live_bytes);
        return HL_E_CORRUPTED;
    }
    return HL_E_OK;
}

const hl_backend *heaplab_backend(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, "stack", HL_CLASS_FOREIGN,
        "example contract plugin: a stack allocator with native scopes (examples/contract_plugin)",
        NULL, stack_create, stack_destroy, stack_describe, stack_alloc, stack_free, stack_realloc,
        stack_usable_size, stack_mem_view, stack_mem_copy, stack_enter_scope, stack_exit_scope, stack_promote,
        stack_free_all, NULL, NULL, NULL, NULL, stack_stats, stack_check};
    return &table;
}
