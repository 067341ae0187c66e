/* guard.c: a page allocator with guard pages (seed 002), GWP-ASan style.
 *
 * A guarded block owns a slot of whole pages: its data pages and one inaccessible
 * guard page after them, the block at the very end of its data pages (at=end, the
 * default: a read or write past its usable size hits the guard page), or the guard
 * page before and the block at the very start (at=start: an access before it hits
 * the guard). free makes the whole slot inaccessible and keeps it in a quarantine of
 * `quarantine` slots (FIFO); a slot leaving the quarantine is reused for a block of
 * the same page count (free slots are kept per page count, LIFO), so an access to a
 * block freed at most `quarantine` frees ago faults. When the memory source is
 * exhausted, the quarantine gives up its oldest slot of the right size rather than
 * fail.
 *
 * Faults become detections only when the host catches them (hl_config.faults_caught,
 * heaplab's fault catcher in release builds): then, and only when every block is
 * guarded (sample=1) and the memory is protected (os pages), guard declares OVERFLOW
 * (at=end), UNDERFLOW (at=start) and USE_AFTER_FREE. It always detects
 * INVALID_POINTER, DOUBLE_FREE and LAYOUT_MISMATCH (the shared scope tracker keeps
 * every block and freed address), and takes scopes and free_all from the tracker.
 *
 * Capacity is real: each guarded block costs two memory mappings (its accessible
 * pages and its guard page, where the kernel merges neither with a neighbour), and
 * vm.max_map_count (65530) bounds the whole process, which can no longer map memory
 * at all when it runs out. So an instance takes at most a quarter of the mappings
 * still free when it is created (read from /proc), declares the live guarded blocks
 * that allows as its capacity, and answers CAPACITY beyond it. sample=N guards one
 * block in N and takes the rest from a bins sub-heap (its own memory source), so
 * traces with 100k live blocks still run (without the access-misuse declarations).
 *
 * Complexity: alloc and free O(1) plus two mprotect calls (a reused slot of a rare
 * page count is found by a scan of the large-slot list); exit/free_all O(blocks).
 *
 * Invariants (checked by guard_check): slot pages lie in [slots_start, slots_top);
 * the quarantine holds at most `quarantine` slots; live guarded blocks <= capacity;
 * the tracker's live blocks equal the stats'. */
#include "backends.h"
#include "hl_kit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HL_GUARD_NAME
#define HL_GUARD_NAME "guard"
#endif
#ifndef HL_GUARD_GETTER
#define HL_GUARD_GETTER hl_backend_guard
#endif

#define GUARD_MIN_ALIGN 16u
#define GUARD_SMALL_SLOTS 17u /* per-count free stacks for slots of 1..16 pages */
#define GUARD_DEFAULT_QUARANTINE 256u
#define GUARD_DEFAULT_MAP_COUNT 65530u

typedef struct slot {
    hl_addr start;  /* first page of the slot */
    uint32_t pages; /* pages in the slot, guard included */
} slot;

typedef struct slot_stack {
    slot *items;
    uint32_t count, capacity;
} slot_stack;

struct hl_heap {
    hl_tracked_heap kit;    /* first: the tracker, the stats (hl_kit.h) */
    hl_source source;
    bool at_start;          /* guard page before the block (else after) */
    bool faults_caught;     /* the host turns faults into detections */
    bool protects;          /* the source can protect pages (os) */
    uint32_t sample;        /* one block in `sample` is guarded */
    uint64_t allocs_seen;   /* for sampling */
    uint32_t quarantine;    /* slots kept inaccessible after free */
    uint64_t capacity;      /* live guarded blocks allowed */
    uint64_t live_guarded;
    size_t page;
    hl_addr slots_start, slots_top;
    slot_stack free_small[GUARD_SMALL_SLOTS];
    slot_stack free_large;
    slot *ring;             /* the quarantine: ring[head..head+held) modulo quarantine */
    uint32_t ring_head, ring_held;
    const hl_backend *sub_backend;
    hl_heap *sub;           /* the bins sub-heap when sample > 1 */
};

/* ---------------------------------------------------------------- memory */

/* Accessible pages carved at the top (for the tracker, the stacks and the ring):
 * no guard, counted in the footprint, never given back. */
static void *carve(hl_heap *h, size_t bytes)
{
    size_t size = (bytes + h->page - 1) & ~(h->page - 1);
    size_t offset = hl_source_offset(&h->source, h->slots_top);
    if (size > SIZE_MAX - offset || hl_source_commit(&h->source, offset + size) != HL_E_OK) return NULL;
    void *p = hl_source_host(&h->source, h->slots_top, size);
    h->slots_top += size;
    return p;
}

static void *tracker_get(void *context, size_t bytes) { return carve(context, bytes); }
static void tracker_put(void *context, void *memory, size_t bytes) { (void)context, (void)memory, (void)bytes; }

static bool push(hl_heap *h, slot_stack *stack, slot s)
{
    if (stack->count == stack->capacity) {
        uint32_t capacity = stack->capacity ? stack->capacity * 2 : 64;
        slot *items = carve(h, capacity * sizeof *items);
        if (!items) return false;
        if (stack->count) memcpy(items, stack->items, stack->count * sizeof *items);
        stack->items = items;
        stack->capacity = capacity;
    }
    stack->items[stack->count++] = s;
    return true;
}

static hl_error protect(hl_heap *h, hl_addr start, size_t len, hl_protection how)
{
    if (!h->protects || !len) return HL_E_OK;
    return hl_source_protect(&h->source, hl_source_offset(&h->source, start), len, how);
}

/* ---------------------------------------------------------------- slot geometry */

static size_t extent(size_t size) { return size ? size : 1; }

static size_t served_align(const hl_heap *h, hl_layout layout)
{
    if (h->at_start) return h->page;
    return layout.align > GUARD_MIN_ALIGN ? layout.align : GUARD_MIN_ALIGN;
}

/* Data pages a block of layout needs so that it can sit at the end (or start) of
 * them on its alignment. More than a slot can count (UINT32_MAX - 1) is returned as
 * UINT32_MAX, which no source can hold: raw_alloc answers OUT_OF_MEMORY. */
static uint32_t data_pages(const hl_heap *h, hl_layout layout)
{
    size_t room = h->at_start ? extent(layout.size) : extent(layout.size) + served_align(h, layout) - 1;
    size_t pages = room / h->page + (room % h->page != 0);
    return pages >= UINT32_MAX ? UINT32_MAX : (uint32_t)pages;
}


/* Where the block of a slot lies, and its slot from the block (the inverse). */
static hl_addr block_in(const hl_heap *h, slot s, hl_layout layout)
{
    if (h->at_start) return s.start + h->page;
    hl_addr end = s.start + (hl_addr)(s.pages - 1) * h->page;
    return (end - extent(layout.size)) & ~(hl_addr)(served_align(h, layout) - 1);
}

static slot slot_of(const hl_heap *h, hl_addr block, hl_layout layout)
{
    slot s = {0, data_pages(h, layout) + 1};
    if (h->at_start) {
        s.start = block - h->page;
    } else {
        hl_addr end = (block + extent(layout.size) + h->page - 1) & ~(hl_addr)(h->page - 1);
        s.start = end - (hl_addr)(s.pages - 1) * h->page;
    }
    return s;
}

static bool in_slots(const hl_heap *h, hl_addr block) { return block >= h->slots_start && block < h->slots_top; }

/* A slot of `pages` pages: reused (of exactly that count) or fresh at the top, all of
 * it inaccessible. 0 start when out of memory. */
static bool reuse_slot(hl_heap *h, uint32_t pages, slot *out)
{
    slot_stack *stack = pages < GUARD_SMALL_SLOTS ? &h->free_small[pages] : &h->free_large;
    for (uint32_t i = stack->count; i-- > 0;) {
        if (stack->items[i].pages != pages) continue;
        *out = stack->items[i];
        stack->items[i] = stack->items[--stack->count];
        return true;
    }
    return false;
}

static void free_slot(hl_heap *h, slot s)
{
    push(h, s.pages < GUARD_SMALL_SLOTS ? &h->free_small[s.pages] : &h->free_large, s);
}

static slot take_slot(hl_heap *h, uint32_t pages)
{
    slot reused;
    if (reuse_slot(h, pages, &reused)) return reused;
    hl_addr start = h->slots_top;
    size_t offset = hl_source_offset(&h->source, start);
    size_t bytes = (size_t)pages * h->page;
    if (bytes > SIZE_MAX - offset || hl_source_commit(&h->source, offset + bytes) != HL_E_OK) {
        /* the memory is exhausted: the quarantine gives a slot up rather than fail
         * (its oldest of that page count; the ring's head takes its place) */
        for (uint32_t i = 0; i < h->ring_held; i++) {
            slot *candidate = &h->ring[(h->ring_head + i) % h->quarantine];
            if (candidate->pages != pages) continue;
            reused = *candidate;
            *candidate = h->ring[h->ring_head];
            h->ring_head = (h->ring_head + 1) % h->quarantine;
            h->ring_held--;
            return reused;
        }
        return (slot){0, 0};
    }
    h->slots_top = start + bytes;
    slot fresh = {start, pages};
    protect(h, start, bytes, HL_PROT_NONE); /* made accessible below, guard excepted */
    return fresh;
}

/* Makes a slot's data pages accessible (its guard stays inaccessible). */
static hl_error open_slot(hl_heap *h, slot s)
{
    hl_addr data = h->at_start ? s.start + h->page : s.start;
    return protect(h, data, (size_t)(s.pages - 1) * h->page, HL_PROT_RW);
}

/* A freed slot: inaccessible, into the quarantine; the oldest leaves it for reuse. */
static void retire_slot(hl_heap *h, slot s)
{
#ifndef HL_GUARD_MUTANT_KEEP_FREED_OPEN /* TEST-ONLY MUTANT: freed pages stay accessible */
    protect(h, s.start, (size_t)s.pages * h->page, HL_PROT_NONE);
#endif
    if (h->quarantine && h->ring_held == h->quarantine) {
        slot oldest = h->ring[h->ring_head];
        h->ring_head = (h->ring_head + 1) % h->quarantine;
        h->ring_held--;
        free_slot(h, oldest);
    }
    if (h->quarantine) {
        h->ring[(h->ring_head + h->ring_held) % h->quarantine] = s;
        h->ring_held++;
    } else {
        free_slot(h, s);
    }
}

/* ---------------------------------------------------------------- raw blocks */

static void note_footprint(hl_heap *h)
{
    hl_stats sub = {0};
    if (h->sub) h->sub_backend->stats(h->sub, &sub);
    hl_stats_footprint(&h->kit.stats, h->source.committed + sub.footprint);
}

/* A raw block (no tracker, no stats): guarded or from the sub-heap. */
static hl_addr raw_alloc(hl_heap *h, hl_layout layout, hl_error *error)
{
    bool guarded = !h->sub || h->allocs_seen++ % h->sample == 0;
    if (guarded && h->sub && h->live_guarded >= h->capacity) guarded = false; /* sampling is best effort */
    if (!guarded) return h->sub_backend->alloc(h->sub, layout, HL_CAP_NONE, error);
    if (h->live_guarded >= h->capacity) return *error = HL_E_CAPACITY, 0;
    uint32_t pages = data_pages(h, layout);
    if (pages == UINT32_MAX) return *error = HL_E_OUT_OF_MEMORY, 0; /* 16 TiB and more: was truncated to a page */
    slot s = take_slot(h, pages + 1);
    if (!s.start || open_slot(h, s) != HL_E_OK) return *error = HL_E_OUT_OF_MEMORY, 0;
    h->live_guarded++;
#ifdef HL_GUARD_MUTANT_CLOSE_THIRD /* TEST-ONLY MUTANT: the third block is handed out inaccessible */
    if (h->kit.stats.calls[HL_STAT_alloc] == 3) protect(h, s.start, (size_t)s.pages * h->page, HL_PROT_NONE);
#endif
    return block_in(h, s, layout);
}

static void raw_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    if (!in_slots(h, block)) {
        h->sub_backend->free(h->sub, block, layout);
        return;
    }
    h->live_guarded--;
    retire_slot(h, slot_of(h, block, layout));
}

static void *guard_mem_view(hl_heap *h, hl_addr addr, size_t len)
{
    if (in_slots(h, addr) || !h->sub) return hl_source_host(&h->source, addr, len);
    return h->sub_backend->mem_view(h->sub, addr, len);
}

static hl_addr kit_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    (void)caps; /* no capabilities here */
    return raw_alloc(h, layout, error);
}
static void kit_footprint(hl_heap *h, hl_stat_op after) { (void)after, note_footprint(h); }

static const hl_tracked_ops kit_ops = {kit_alloc, raw_free, guard_mem_view, kit_footprint, NULL, NULL, NULL};

/* ---------------------------------------------------------------- lifecycle */

typedef struct guard_settings {
    hl_source_config source;
    bool at_start;
    uint64_t quarantine, sample, max_live;
} guard_settings;

static const char *const at_words[] = {"end", "start", NULL};

/* source=static gives no page protection (for embedded use); source=linear is refused
 * (linear memory has no page protection either) */
#define GUARD_OPTIONS(X)                                                                                         \
    HL_SOURCE_OPTIONS(X)                                                                                         \
    X("at", "end", "end: block at the end of its pages, guard after (overflows fault); start: guard before",     \
      HL_OPTION_WORD, at_start, 0, 0, at_words, 0)                                                               \
    X("quarantine", "256", "freed slots kept inaccessible before reuse (use after free within it faults)",       \
      HL_OPTION_COUNT, quarantine, 0, 1u << 20, NULL, 0)                                                         \
    X("sample", "1", "guard one block in N; the rest come from a bins sub-heap (no access-misuse detection)",    \
      HL_OPTION_COUNT, sample, 1, 1u << 30, NULL, 0)                                                             \
    X("max_live", "a quarter of the free mappings / 2", "live guarded blocks allowed (CAPACITY beyond)",        \
      HL_OPTION_COUNT, max_live, 1, UINT32_MAX, NULL, 0)

#define HL_SETTINGS guard_settings
static const hl_option_doc option_docs[] = {GUARD_OPTIONS(HL_OPTION_DOC){NULL, NULL, NULL}};
static const hl_option_rule option_rules[] = {GUARD_OPTIONS(HL_OPTION_RULE)};

/* Mappings this process may still make: vm.max_map_count minus the lines of maps. */
static uint64_t free_mappings(void)
{
    uint64_t limit = GUARD_DEFAULT_MAP_COUNT, used = 0;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        unsigned long long value;
        if (fscanf(f, "%llu", &value) == 1) limit = value;
        fclose(f);
    }
    f = fopen("/proc/self/maps", "r");
    if (f) {
        int c;
        while ((c = fgetc(f)) != EOF) used += c == '\n';
        fclose(f);
    }
    return used < limit ? limit - used : 0;
}

static hl_error guard_create(const hl_config *config, hl_heap **out)
{
    guard_settings settings = {.quarantine = GUARD_DEFAULT_QUARANTINE, .sample = 1};
    hl_source_config_init(&settings.source);
    if (hl_options_apply(config, HL_GUARD_NAME, option_docs, option_rules, &settings) != HL_E_OK)
        return HL_E_INVALID_ARGUMENT;
    hl_source_config source_config = settings.source;
    source_config.sparse = (config->hints & HL_HINT_SPARSE) != 0;
    bool at_start = settings.at_start;
    uint64_t quarantine = settings.quarantine, sample = settings.sample, max_live = settings.max_live;
    char why[200];
    if (source_config.kind == HL_SOURCE_LINEAR)
        return hl_config_say(config, "guard: %s", "source=linear is not supported (linear memory has no page protection)"),
               HL_E_INVALID_ARGUMENT;
    /* a quarter of the free mappings, two per live guarded block */
    uint64_t share = free_mappings() / 4 / 2;
    if (!max_live || max_live > share) max_live = max_live ? max_live : share;
    hl_source source;
    hl_error e = hl_source_open(&source, &source_config, config->buffer, config->buffer_size, sizeof(struct hl_heap),
                                why, sizeof why);
    if (e != HL_E_OK) return hl_config_say(config, "guard: %s", why), e;
    hl_heap *h = hl_source_host(&source, source.origin, sizeof *h);
    memset(h, 0, sizeof *h);
    h->source = source;
    h->page = source.page;
    h->at_start = at_start;
    h->faults_caught = config->faults_caught;
    h->protects = source.kind == HL_SOURCE_OS;
    h->sample = (uint32_t)sample;
    h->quarantine = (uint32_t)quarantine;
    h->capacity = max_live;
    h->slots_start = h->slots_top = (source.origin + sizeof *h + h->page - 1) & ~(hl_addr)(h->page - 1);
    if (quarantine && !(h->ring = carve(h, quarantine * sizeof *h->ring))) {
        hl_source_close(&source);
        return hl_config_say(config, "guard: %s", "no room for the quarantine"), HL_E_OUT_OF_MEMORY;
    }
    if (sample > 1) {
        static const hl_option sub_options[] = {{"detect", "0"}};
        hl_config sub_config = {sub_options, 1, NULL, 0, config->error_message, config->error_capacity, false, config->hints};
        h->sub_backend = hl_backend_bins();
        if ((e = h->sub_backend->create(&sub_config, &h->sub)) != HL_E_OK) {
            hl_source_close(&source);
            return e;
        }
    }
    hl_tracker_memory memory = {h, tracker_get, tracker_put, false};
    hl_tracked_init(&h->kit, &kit_ops, memory, true, true);
    note_footprint(h);
    *out = h;
    return HL_E_OK;
}

static void guard_destroy(hl_heap *h)
{
    if (h->sub) h->sub_backend->destroy(h->sub);
    hl_source source = h->source; /* the state lives inside the memory it releases */
    hl_source_close(&source);
}

static void guard_describe(const hl_heap *h, hl_info *info)
{
    memset(info, 0, sizeof *info);
    info->name = HL_GUARD_NAME;
    info->backend_class = HL_CLASS_REFERENCE;
    info->min_align = GUARD_MIN_ALIGN;
    info->max_align = h->page;
    info->max_live_blocks = h->sub ? 0 : h->capacity;
    info->misuse = HL_MISUSE_FREE_KINDS;
    if (h->faults_caught && h->protects && !h->sub) {
        info->misuse |= HL_MISUSE_BIT(h->at_start ? HL_E_UNDERFLOW : HL_E_OVERFLOW);
        info->overflow_reach = (uint32_t)h->page;
        if (h->quarantine) info->misuse |= HL_MISUSE_BIT(HL_E_USE_AFTER_FREE);
        info->quarantine = h->quarantine;
    }
    info->source = h->source.kind == HL_SOURCE_OS ? "os" : "static";
    info->page_size = h->page;
}

/* ---------------------------------------------------------------- operations */

static hl_addr fail(hl_heap *h, hl_stat_op op, hl_error *error, hl_error e) { return hl_stats_fail(&h->kit.stats, op, error, e); }

/* Alignments up to a page: a block at the end of its pages then ends less than a page
 * before the guard, so its slot follows from its address and layout. */
static hl_error layout_error(const hl_heap *h, hl_layout layout, hl_caps caps)
{
    if (!hl_is_power_of_two(layout.align)) return HL_E_INVALID_ARGUMENT;
    if (caps != HL_CAP_NONE || layout.align > h->page) return HL_E_UNSUPPORTED;
    if (layout.size > SIZE_MAX / 4) return HL_E_OUT_OF_MEMORY;
    return HL_E_OK;
}

static hl_addr guard_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    h->kit.stats.calls[HL_STAT_alloc]++;
    hl_error e = layout_error(h, layout, caps);
    if (e != HL_E_OK) return fail(h, HL_STAT_alloc, error, e);
    if (hl_tracker_reserve(&h->kit.tracker) != HL_E_OK) return fail(h, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    hl_addr block = raw_alloc(h, layout, &e);
    note_footprint(h);
    if (!block) return fail(h, HL_STAT_alloc, error, e ? e : HL_E_OUT_OF_MEMORY);
    hl_tracker_add(&h->kit.tracker, block, layout, caps); /* cannot fail: reserved */
    hl_stats_live(&h->kit.stats, +1, (int64_t)layout.size);
    return block;
}

static hl_error guard_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    h->kit.stats.calls[HL_STAT_free]++;
    if (!block) return HL_E_OK;
    hl_error e = hl_tracker_free(&h->kit.tracker, block, layout, true);
    if (e != HL_E_OK) return h->kit.stats.failures[HL_STAT_free]++, e;
    raw_free(h, block, layout);
    hl_stats_live(&h->kit.stats, -1, -(int64_t)layout.size);
    return HL_E_OK;
}

static size_t guard_usable_size(hl_heap *h, hl_addr block, hl_layout layout)
{
    if (!in_slots(h, block)) return h->sub_backend->usable_size(h->sub, block, layout);
    slot s = slot_of(h, block, layout);
    hl_addr data_end = h->at_start ? s.start + (hl_addr)s.pages * h->page : s.start + (hl_addr)(s.pages - 1) * h->page;
    return (size_t)(data_end - block); /* at=end: up to the guard page, where overflows fault */
}

/* realloc always moves (a block sits at the end of its pages, so another size is
 * another address), and on failure leaves the old block as it was. */
static hl_addr guard_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    if (!block) return guard_alloc(h, (hl_layout){size, old.align}, HL_CAP_NONE, error);
    h->kit.stats.calls[HL_STAT_realloc]++;
    if (size > SIZE_MAX / 4) return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    if (hl_tracker_reserve(&h->kit.tracker) != HL_E_OK) return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    hl_layout fresh_layout = {size, old.align};
    hl_error e = HL_E_OK;
    hl_addr fresh = raw_alloc(h, fresh_layout, &e);
    note_footprint(h);
    if (!fresh) return fail(h, HL_STAT_realloc, error, e ? e : HL_E_OUT_OF_MEMORY);
    memcpy(guard_mem_view(h, fresh, extent(size)), guard_mem_view(h, block, extent(old.size)), old.size < size ? old.size : size);
    hl_tracker_moved(&h->kit.tracker, block, fresh, size); /* cannot fail: reserved */
    raw_free(h, block, old);
    hl_stats_resize(&h->kit.stats, old.size, size);
    return fresh;
}

static hl_error guard_check(hl_heap *h, char *message, size_t capacity)
{
    if (h->slots_start > h->slots_top || hl_source_offset(&h->source, h->slots_top) > h->source.committed) {
        snprintf(message, capacity, "slot top outside the committed memory");
        return HL_E_CORRUPTED;
    }
    if (h->ring_held > h->quarantine || h->live_guarded > h->capacity) {
        snprintf(message, capacity, "quarantine holds %u of %u slots; %llu of %llu guarded blocks live", h->ring_held,
                 h->quarantine, (unsigned long long)h->live_guarded, (unsigned long long)h->capacity);
        return HL_E_CORRUPTED;
    }
    for (uint32_t i = 0; i < h->ring_held; i++) {
        slot s = h->ring[(h->ring_head + i) % h->quarantine];
        if (s.start < h->slots_start || s.start + (hl_addr)s.pages * h->page > h->slots_top || s.pages < 2) {
            snprintf(message, capacity, "quarantined slot 0x%llx (%u pages) outside the slots",
                     (unsigned long long)s.start, s.pages);
            return HL_E_CORRUPTED;
        }
    }
    if (hl_tracked_check(h, message, capacity) != HL_E_OK) return HL_E_CORRUPTED;
    if (h->sub && h->sub_backend->check(h->sub, message, capacity) != HL_E_OK) return HL_E_CORRUPTED;
    return HL_E_OK;
}

const hl_backend *HL_GUARD_GETTER(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, HL_GUARD_NAME, HL_CLASS_REFERENCE,
        "page allocator with guard pages and a quarantine; optional sampling over a bins sub-heap",
        option_docs, guard_create, guard_destroy, guard_describe, guard_alloc, guard_free, guard_realloc,
        guard_usable_size, guard_mem_view, hl_tracked_mem_copy, hl_tracked_enter_scope, hl_tracked_exit_scope,
        hl_tracked_promote, hl_tracked_free_all, NULL, NULL, NULL, NULL, hl_tracked_stats, guard_check};
    return &table;
}
