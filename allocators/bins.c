/* bins.c: segregated size classes over a memory source (seed 003, as an instance).
 *
 * Blocks of up to 128 bytes with align <= 16 come in four classes (16, 32, 64, 128
 * bytes), each with a LIFO free list linked through the free blocks themselves. Every
 * other block (larger, or more strictly aligned) is cut from a bump pointer and, as in
 * the seed, never reused after free: the heap trades reuse of big blocks for O(1)
 * everything and no headers. Realloc stays in place when the new size fits the
 * block's capacity, or when the block ends at the bump pointer (it grows there);
 * otherwise it allocates, copies and frees, and on failure leaves the old block live.
 *
 * Scopes and free_all go through the shared scope tracker; with detect=1 (default)
 * the tracker also remembers every block and every freed address, and bins reports
 * INVALID_POINTER, DOUBLE_FREE and LAYOUT_MISMATCH. With detect=0 it is as lean as
 * the seed and declares no misuse detection.
 *
 * The instance's own state lives at the start of its memory source (below the heap
 * base 1024 on linear memory), so all of it counts in the footprint.
 *
 * Invariants (checked by bins_check):
 *   free_lists[c] holds free blocks of exactly 16 << c bytes, most recently freed
 *   first; every block on a list lies in [heap_start, bump) and is 16-aligned; no list
 *   has a cycle; with detect, no block on a list is live;
 *   heap_start <= bump <= committed. */
#include "backends.h"
#include "hl_kit.h"

#include <stdio.h>
#include <string.h>

#ifndef HL_BINS_NAME
#define HL_BINS_NAME "bins"
#endif
#ifndef HL_BINS_GETTER
#define HL_BINS_GETTER hl_backend_bins
#endif

#define BINS_CLASSES 4
#define BINS_SMALL_MAX 128u
#define BINS_MIN_ALIGN 16u
#define BINS_MAX_ALIGN 65536u
#define BINS_LINEAR_STATE 16u /* the state's offset in linear memory (0 is never used) */

struct hl_heap {
    hl_tracked_heap kit; /* first: the tracker, the stats (hl_kit.h) */
    hl_source source;
    bool detect;
    hl_addr free_lists[BINS_CLASSES];
    size_t heap_start; /* offset of the first block */
    size_t bump;       /* offset of the first byte never handed out */
};

static int class_of(size_t size, size_t align)
{
    if (size > BINS_SMALL_MAX || align > BINS_MIN_ALIGN) return -1;
    int c = 0;
#ifdef HL_MUTANT_CLASS_OFF_BY_ONE /* TEST-ONLY MUTANT: a size one above a class goes to that class */
    while ((16u << c) + 1 < size) c++;
#else
    while ((16u << c) < size) c++;
#endif
    return c;
}

static hl_addr *link_of(hl_heap *h, hl_addr block) { return hl_source_host(&h->source, block, sizeof(hl_addr)); }

/* A raw bump block: no tracker, no stats. 0 when the source cannot grow. */
static hl_addr bump_alloc(hl_heap *h, size_t size, size_t align)
{
    uintptr_t at;
    if (!hl_align_up(h->source.origin + h->bump, align, &at)) return 0;
    size_t offset = hl_source_offset(&h->source, at);
    if (size > SIZE_MAX - offset || hl_source_commit(&h->source, offset + size) != HL_E_OK) return 0;
    h->bump = offset + size;
    return at;
}

/* A raw block of layout: from its class list if it has one, else from the bump. */
static hl_addr raw_alloc(hl_heap *h, hl_layout layout)
{
    int c = class_of(layout.size, layout.align);
#ifdef HL_MUTANT_LARGE_ALIGN /* TEST-ONLY MUTANT: alignments above a page are served at a page */
    if (layout.align > 4096) layout.align = 4096;
#endif
    if (c < 0) return bump_alloc(h, layout.size ? layout.size : 1, layout.align > BINS_MIN_ALIGN ? layout.align : BINS_MIN_ALIGN);
    hl_addr head = h->free_lists[c];
    if (head) {
#ifdef HL_MUTANT_LIVE_HANDOUT
        /* TEST-ONLY MUTANT: with two or more blocks on the list, the head is handed out
         * without being unlinked, so the next alloc gets it again. */
        if (*link_of(h, head)) return head;
#endif
        h->free_lists[c] = *link_of(h, head);
        return head;
    }
    return bump_alloc(h, 16u << c, BINS_MIN_ALIGN);
}

/* Gives a raw block back: small ones onto their list, bump blocks are not reused. */
static void raw_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    int c = class_of(layout.size, layout.align);
    if (c < 0) return;
    *link_of(h, block) = h->free_lists[c];
    h->free_lists[c] = block;
}

static void note_footprint(hl_heap *h) { hl_stats_footprint(&h->kit.stats, h->source.committed); }

/* ---------------------------------------------------------------- tracker glue */

static void *tracker_get(void *context, size_t bytes)
{
    hl_heap *h = context;
    hl_addr at = bump_alloc(h, bytes, BINS_MIN_ALIGN);
    return at ? hl_source_host(&h->source, at, bytes) : NULL;
}
static void tracker_put(void *context, void *memory, size_t bytes) { (void)context, (void)memory, (void)bytes; }

/* the kit's view of bins: raw blocks (bins serves no capabilities) */
static hl_addr kit_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    (void)caps, (void)error;
    return raw_alloc(h, layout);
}
static void *bins_mem_view(hl_heap *h, hl_addr addr, size_t len) { return hl_source_host(&h->source, addr, len); }
static void kit_footprint(hl_heap *h, hl_stat_op after) { (void)after, note_footprint(h); }
/* free_all: the bump region (the tracker's memory included) is taken back whole */
static void kit_reclaim(hl_heap *h)
{
#ifndef HL_TEST_FREE_ALL_KEEPS_FREE_LISTS /* TEST-ONLY: free_all leaves the free lists as they were */
    memset(h->free_lists, 0, sizeof h->free_lists);
#endif
    h->bump = h->heap_start;
}

static const hl_tracked_ops kit_ops = {kit_alloc, raw_free, bins_mem_view, kit_footprint, kit_reclaim, NULL, NULL};

/* ---------------------------------------------------------------- lifecycle */

typedef struct bins_settings {
    hl_source_config source;
    bool detect;
} bins_settings;

#define BINS_OPTIONS(X)                                                                                          \
    HL_SOURCE_OPTIONS(X)                                                                                         \
    X("detect", "1", "1: detect invalid pointers, double frees and layout mismatches (tracks every block)",      \
      HL_OPTION_WORD, detect, 0, 0, hl_option_flag_words, 0)

#define HL_SETTINGS bins_settings
static const hl_option_doc option_docs[] = {BINS_OPTIONS(HL_OPTION_DOC){NULL, NULL, NULL}};
static const hl_option_rule option_rules[] = {BINS_OPTIONS(HL_OPTION_RULE)};

static hl_error bins_create(const hl_config *config, hl_heap **out)
{
    bins_settings settings = {.detect = true};
    hl_source_config_init(&settings.source);
    hl_error e = hl_options_apply(config, HL_BINS_NAME, option_docs, option_rules, &settings);
    if (e != HL_E_OK) return e;
    char why[200];
    bool linear = settings.source.kind == HL_SOURCE_LINEAR;
    size_t state_at = linear ? BINS_LINEAR_STATE : 0;
    _Static_assert(sizeof(struct hl_heap) + BINS_LINEAR_STATE <= 1024, "bins state must fit below the heap base");
    hl_source source;
    settings.source.sparse = (config->hints & HL_HINT_SPARSE) != 0;
    e = hl_source_open(&source, &settings.source, config->buffer, config->buffer_size, state_at + sizeof(struct hl_heap),
                       why, sizeof why);
    if (e != HL_E_OK) return hl_config_say(config, HL_BINS_NAME ": %s%s", why, ""), e;
    hl_heap *h = hl_source_host(&source, hl_source_addr(&source, state_at), sizeof *h);
    memset(h, 0, sizeof *h);
    h->source = source;
    h->detect = settings.detect;
    size_t start = state_at + sizeof *h;
    if (start < source.heap_base) start = source.heap_base;
    h->heap_start = h->bump = (start + 15) & ~(size_t)15;
    hl_tracker_memory memory = {h, tracker_get, tracker_put, false};
    hl_tracked_init(&h->kit, &kit_ops, memory, h->detect, h->detect);
    note_footprint(h);
    *out = h;
    return HL_E_OK;
}

static void bins_destroy(hl_heap *h)
{
    hl_source source = h->source; /* the state lives inside the memory it releases */
    hl_source_close(&source);
}

static void bins_describe(const hl_heap *h, hl_info *info)
{
    memset(info, 0, sizeof *info);
    info->name = HL_BINS_NAME;
    info->backend_class = HL_CLASS_REFERENCE;
    info->min_align = BINS_MIN_ALIGN;
    info->max_align = BINS_MAX_ALIGN;
    info->features = HL_FEATURE_INPLACE_REALLOC | (h->source.kind == HL_SOURCE_LINEAR ? HL_FEATURE_LINEAR_MEMORY : 0);
    info->misuse = h->detect ? HL_MISUSE_FREE_KINDS : 0;
    info->source = h->source.kind == HL_SOURCE_OS ? "os" : h->source.kind == HL_SOURCE_STATIC ? "static" : "linear";
    info->page_size = h->source.page;
}

/* ---------------------------------------------------------------- operations */

static hl_error layout_error(hl_layout layout, hl_caps caps)
{
    if (!hl_is_power_of_two(layout.align)) return HL_E_INVALID_ARGUMENT;
    if (caps != HL_CAP_NONE || layout.align > BINS_MAX_ALIGN) return HL_E_UNSUPPORTED;
    if (layout.size > SIZE_MAX / 2) return HL_E_OUT_OF_MEMORY;
    return HL_E_OK;
}

static hl_addr fail(hl_heap *h, hl_stat_op op, hl_error *error, hl_error e) { return hl_stats_fail(&h->kit.stats, op, error, e); }

static hl_addr bins_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    h->kit.stats.calls[HL_STAT_alloc]++;
    hl_error e = layout_error(layout, caps);
    if (e != HL_E_OK) return fail(h, HL_STAT_alloc, error, e);
    if (hl_tracker_wants(&h->kit.tracker) && hl_tracker_reserve(&h->kit.tracker) != HL_E_OK)
        return fail(h, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    hl_addr block = raw_alloc(h, layout);
    note_footprint(h);
    if (!block) return fail(h, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    hl_tracker_add(&h->kit.tracker, block, layout, caps); /* cannot fail: reserved */
    hl_stats_live(&h->kit.stats, +1, (int64_t)layout.size);
    return block;
}

static hl_error bins_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    h->kit.stats.calls[HL_STAT_free]++;
    if (!block) return HL_E_OK;
    hl_error e = hl_tracker_free(&h->kit.tracker, block, layout, h->detect);
#ifdef HL_MUTANT_DOUBLE_FREE_SILENT /* TEST-ONLY MUTANT: a double free is quietly ignored */
    if (e == HL_E_DOUBLE_FREE) return HL_E_OK;
#endif
    if (e != HL_E_OK) return h->kit.stats.failures[HL_STAT_free]++, e;
    raw_free(h, block, layout);
    hl_stats_live(&h->kit.stats, -1, -(int64_t)layout.size);
    return HL_E_OK;
}

static size_t capacity_of(hl_layout layout)
{
    int c = class_of(layout.size, layout.align);
    return c < 0 ? layout.size : 16u << c;
}

static hl_addr bins_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    if (!block) return bins_alloc(h, (hl_layout){size, old.align}, HL_CAP_NONE, error);
    h->kit.stats.calls[HL_STAT_realloc]++;
    if (size > SIZE_MAX / 2) return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    if (h->kit.tracker.table && hl_tracker_reserve(&h->kit.tracker) != HL_E_OK)
        return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    size_t capacity = capacity_of(old);
    size_t offset = hl_source_offset(&h->source, block);
    bool in_place = size <= capacity;
    /* the block ends at the bump pointer: grow it there, to the whole capacity its new
     * size has (a small block that grows into a bigger class must own all of it, or a
     * later free would put a short block on that class's list) */
    size_t grown = capacity_of((hl_layout){size, old.align});
    if (!in_place && offset + capacity == h->bump && grown <= SIZE_MAX - offset &&
        hl_source_commit(&h->source, offset + grown) == HL_E_OK) {
        h->bump = offset + grown;
        in_place = true;
    }
    note_footprint(h);
    if (in_place) {
        hl_tracker_moved(&h->kit.tracker, block, block, size);
#ifndef HL_MUTANT_STATS_DRIFT /* TEST-ONLY MUTANT: an in-place realloc leaves live_bytes as it was */
        hl_stats_resize(&h->kit.stats, old.size, size);
#endif
        return block;
    }
    hl_layout fresh_layout = {size, old.align};
    hl_addr fresh = raw_alloc(h, fresh_layout);
    note_footprint(h);
#ifdef HL_MUTANT_REALLOC_FREES_ON_FAILURE /* TEST-ONLY MUTANT: the old block is released even when the new one fails */
    if (!fresh) raw_free(h, block, old);
#endif
    if (!fresh) return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
#ifdef HL_MUTANT_REALLOC_FREE_FIRST /* TEST-ONLY MUTANT: the old block is freed before the copy, */
    raw_free(h, block, old);        /* so its free-list link overwrites the prefix being moved */
#endif
    unsigned char *to = hl_source_host(&h->source, fresh, size ? size : 1);
    const unsigned char *from = hl_source_host(&h->source, block, old.size ? old.size : 1);
    memcpy(to, from, old.size < size ? old.size : size);
    hl_tracker_moved(&h->kit.tracker, block, fresh, size); /* cannot fail: reserved */
#ifndef HL_MUTANT_REALLOC_FREE_FIRST
    raw_free(h, block, old);
#endif
    hl_stats_resize(&h->kit.stats, old.size, size);
    return fresh;
}

static size_t bins_usable_size(hl_heap *h, hl_addr block, hl_layout layout)
{
    (void)h, (void)block;
    return capacity_of(layout);
}

static hl_error bins_check(hl_heap *h, char *message, size_t capacity)
{
    if (h->heap_start > h->bump || h->bump > h->source.committed) {
        snprintf(message, capacity, "bump offset %zu outside [%zu, %zu]", h->bump, h->heap_start, h->source.committed);
        return HL_E_CORRUPTED;
    }
    size_t limit = (h->bump - h->heap_start) / 16 + 1;
    for (int c = 0; c < BINS_CLASSES; c++) {
        size_t count = 0;
        for (hl_addr block = h->free_lists[c]; block;) {
            size_t offset = hl_source_offset(&h->source, block);
            if (block < h->source.origin || offset < h->heap_start || offset + (16u << c) > h->bump ||
                (block & 15)) {
                snprintf(message, capacity, "free list %u (%u bytes): block 0x%llx lies outside the heap or is misaligned",
                         c, 16u << c, (unsigned long long)block);
                return HL_E_CORRUPTED;
            }
            if (++count > limit) {
                snprintf(message, capacity, "free list %u (%u bytes) has a cycle", c, 16u << c);
                return HL_E_CORRUPTED;
            }
            if (h->detect) {
                const hl_tracked *node = hl_tracker_find(&h->kit.tracker, block);
                if (node && node->live) {
                    snprintf(message, capacity, "free list %u (%u bytes): block 0x%llx is live", c, 16u << c,
                             (unsigned long long)block);
                    return HL_E_CORRUPTED;
                }
            }
            block = *link_of(h, block);
        }
    }
    return hl_tracked_check(h, message, capacity);
}

const hl_backend *HL_BINS_GETTER(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, HL_BINS_NAME, HL_CLASS_REFERENCE,
        "segregated size classes 16/32/64/128 with LIFO free lists and a bump fallback",
        option_docs, bins_create, bins_destroy, bins_describe, bins_alloc, bins_free, bins_realloc,
        bins_usable_size, bins_mem_view, hl_tracked_mem_copy, hl_tracked_enter_scope, hl_tracked_exit_scope,
        hl_tracked_promote, hl_tracked_free_all, NULL, NULL, NULL, NULL, hl_tracked_stats, bins_check};
    return &table;
}
