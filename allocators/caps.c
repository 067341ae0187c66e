/* caps.c: capability regions (seed 000, as an instance).
 *
 * Three regions, each its own memory source:
 *   exec   EXEC blocks: whole pages each (protection is per page, so no neighbour is
 *          ever sealed by accident), from a page bitmap over an os reservation
 *          (exec=SIZE, 64M by default). Pages are read+write until seal() makes them
 *          read+execute; unseal() makes them read+write again: never both. A freed
 *          block's pages go back to read+write.
 *   dma    DMA blocks: whole 64-byte cache lines each, cache-line aligned, from a
 *          line bitmap over a window fixed and committed at construction (dma=SIZE,
 *          1M by default), so a device never shares a line with the CPU's data.
 *   plain  every other block: a bins sub-heap (its own os source).
 * A block with both EXEC and DMA cannot lie in both regions: UNSUPPORTED. exec=0 or
 * dma=0 builds the instance without that capability (UNSUPPORTED for it).
 *
 * The instance's state, bitmaps and the shared scope tracker (which gives scopes and
 * free_all and, keeping every block and freed address, detects INVALID_POINTER,
 * DOUBLE_FREE and LAYOUT_MISMATCH) live in a fourth, small os source; the footprint
 * is the four sources' committed bytes. Cache hooks: flush_data is a no-op on the
 * coherent x86-64 data cache; invalidate_instruction calls __builtin___clear_cache;
 * seal calls both around its mprotect.
 *
 * Complexity: plain blocks as bins; EXEC and DMA alloc O(region pages or lines) in
 * the worst case (a first-fit bitmap scan from a rotating hint), free O(size).
 *
 * Invariants (checked by caps_check): the bitmaps mark exactly the pages and lines of
 * the live EXEC and DMA blocks (counted against the tracker's records); the regions'
 * committed bytes stay within their reservations; the sub-heap passes its check. */
#include "backends.h"
#include "hl_kit.h"

#include <stdio.h>
#include <string.h>

#ifndef HL_CAPS_NAME /* test builds compile planted-bug copies under other names */
#define HL_CAPS_NAME "caps"
#define HL_CAPS_GETTER hl_backend_caps
#endif

#define CAPS_MIN_ALIGN 16u
#define CAPS_MAX_ALIGN 65536u
#define CAPS_LINE 64u
#define CAPS_DEFAULT_EXEC (64u << 20)
#define CAPS_DEFAULT_DMA (1u << 20)

/* A first-fit bitmap allocator of units (pages or lines) over a region. */
typedef struct unit_map {
    hl_source source;
    size_t unit;
    uint64_t *bits;
    size_t units;       /* units in the region */
    size_t hint;        /* where the next scan starts */
    size_t used;        /* units marked */
    size_t high;        /* one past the highest unit ever marked (commit mark) */
} unit_map;

struct hl_heap {
    hl_tracked_heap kit; /* first: the tracker, the stats (hl_kit.h) */
    hl_source meta;     /* this state, the bitmaps, the tracker */
    size_t meta_used;
    bool has_exec, has_dma;
    bool sparse;        /* HL_HINT_SPARSE: the maps' commits resident up to 1 MiB a step */
    unit_map exec, dma;
    const hl_backend *plain_backend;
    hl_heap *plain;
    uint64_t capacity;  /* live blocks the tracker can hold in meta (CAPACITY beyond) */
};

/* ---------------------------------------------------------------- meta memory */

static void *meta_get(hl_heap *h, size_t bytes)
{
    size_t at = (h->meta_used + 63) & ~(size_t)63;
    if (bytes > SIZE_MAX - at || hl_source_commit(&h->meta, at + bytes) != HL_E_OK) return NULL;
    h->meta_used = at + bytes;
    return hl_source_host(&h->meta, hl_source_addr(&h->meta, at), bytes);
}
static void *tracker_get(void *context, size_t bytes) { return meta_get(context, bytes); }
static void tracker_put(void *context, void *memory, size_t bytes) { (void)context, (void)memory, (void)bytes; }

/* ---------------------------------------------------------------- unit maps */

static bool bit(const unit_map *m, size_t i) { return (m->bits[i / 64] >> (i % 64)) & 1; }

static void mark(unit_map *m, size_t first, size_t n, bool on)
{
    for (size_t i = first; i < first + n; i++) {
        if (on) m->bits[i / 64] |= 1ull << (i % 64);
        else m->bits[i / 64] &= ~(1ull << (i % 64));
    }
    m->used = on ? m->used + n : m->used - n;
}

/* n free units whose first starts on align (in the address space), first fit from
 * the hint; the region is committed up to them. Returns the first unit, or SIZE_MAX. */
static size_t take_units(unit_map *m, size_t n, size_t align)
{
    if (!n || n > m->units) return SIZE_MAX;
    /* unit i starts at origin + i * unit: aligned when i = phase (mod step) */
    size_t step = align > m->unit ? align / m->unit : 1;
    size_t phase = align > m->unit ? ((align - m->source.origin % align) % align) / m->unit : 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t from = pass ? 0 : m->hint, to = pass ? m->hint + n : m->units;
        if (to > m->units) to = m->units;
        size_t first = from <= phase ? phase : phase + (from - phase + step - 1) / step * step;
        for (size_t i = first; i + n <= to; i += step) {
            size_t j = 0;
            while (j < n && !bit(m, i + j)) j++;
            if (j < n) {
                i = phase + (i + j - phase) / step * step; /* skip past the used unit */
                continue;
            }
            if (i + n > m->high && hl_source_commit(&m->source, (i + n) * m->unit) != HL_E_OK) return SIZE_MAX;
            if (i + n > m->high) m->high = i + n;
            mark(m, i, n, true);
            m->hint = i + n;
            return i;
        }
    }
    return SIZE_MAX;
}

static bool in_map(const unit_map *m, hl_addr addr)
{
    return m->bits && addr >= m->source.origin && addr - m->source.origin < m->units * m->unit;
}

static size_t units_of(const unit_map *m, size_t size) { return ((size ? size : 1) + m->unit - 1) / m->unit; }

static hl_error open_map(hl_heap *h, unit_map *m, size_t bytes, size_t unit, size_t commit, char *why, size_t capacity)
{
    hl_source_config config;
    hl_source_config_init(&config);
    config.size = bytes;
    config.sparse = h->sparse;
    m->unit = unit;
    m->units = bytes / unit;
    hl_error e = hl_source_open(&m->source, &config, NULL, 0, commit, why, capacity);
    if (e != HL_E_OK) return e;
    m->bits = meta_get(h, (m->units + 63) / 64 * sizeof(uint64_t));
    if (!m->bits) return HL_E_OUT_OF_MEMORY;
    memset(m->bits, 0, (m->units + 63) / 64 * sizeof(uint64_t));
    if (commit) m->high = m->units;
    return HL_E_OK;
}

/* ---------------------------------------------------------------- raw blocks */

static void note_footprint(hl_heap *h)
{
    hl_stats plain = {0};
    h->plain_backend->stats(h->plain, &plain);
    hl_stats_footprint(&h->kit.stats, h->meta.committed + h->exec.source.committed + h->dma.source.committed + plain.footprint);
}

static hl_error layout_error(const hl_heap *h, hl_layout layout, hl_caps caps)
{
    if (!hl_is_power_of_two(layout.align)) return HL_E_INVALID_ARGUMENT;
    if (layout.align > CAPS_MAX_ALIGN || (caps & ~HL_CAP_ALL) || caps == HL_CAP_ALL) return HL_E_UNSUPPORTED;
    if (((caps & HL_CAP_EXEC) && !h->has_exec) || ((caps & HL_CAP_DMA) && !h->has_dma)) return HL_E_UNSUPPORTED;
    if (layout.size > SIZE_MAX / 4) return HL_E_OUT_OF_MEMORY;
    return HL_E_OK;
}

static hl_addr raw_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    unit_map *m = caps & HL_CAP_EXEC ? &h->exec : caps & HL_CAP_DMA ? &h->dma : NULL;
    if (!m) return h->plain_backend->alloc(h->plain, layout, HL_CAP_NONE, error);
    size_t first = take_units(m, units_of(m, layout.size), layout.align);
    if (first == SIZE_MAX) return *error = HL_E_OUT_OF_MEMORY, 0;
    return hl_source_addr(&m->source, first * m->unit);
}

static void raw_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    unit_map *m = in_map(&h->exec, block) ? &h->exec : in_map(&h->dma, block) ? &h->dma : NULL;
    if (!m) {
        h->plain_backend->free(h->plain, block, layout);
        return;
    }
    size_t first = hl_source_offset(&m->source, block) / m->unit, n = units_of(m, layout.size);
    if (m == &h->exec) hl_source_protect(&m->source, first * m->unit, n * m->unit, HL_PROT_RW); /* never left RX */
    mark(m, first, n, false);
}

/* free_all: every block freed through the tracker, then the plain heap's own
 * free_all (its bump region back whole) and the scans start over, so an instance that
 * lives across many free_alls (persistent fuzzing) reuses what it committed instead of
 * committing more */
static hl_error caps_free_all(hl_heap *h)
{
    hl_error e = hl_tracked_free_all(h);
    h->plain_backend->free_all(h->plain);
    h->exec.hint = 0;
    h->dma.hint = 0;
    return e;
}

static void *view(hl_heap *h, hl_addr addr, size_t len)
{
    if (in_map(&h->exec, addr)) return hl_source_host(&h->exec.source, addr, len);
    if (in_map(&h->dma, addr)) return hl_source_host(&h->dma.source, addr, len);
    return h->plain_backend->mem_view(h->plain, addr, len);
}

static void kit_footprint(hl_heap *h, hl_stat_op after) { (void)after, note_footprint(h); }

static const hl_tracked_ops kit_ops = {raw_alloc, raw_free, view, kit_footprint, NULL, NULL, NULL};

/* ---------------------------------------------------------------- lifecycle */

typedef struct caps_settings {
    uint64_t exec_size, dma_size;
} caps_settings;

#define CAPS_OPTIONS(X)                                                                                          \
    X("exec", "64M", "bytes reserved for the exec region (0: no EXEC capability); K/M/G suffixes",               \
      HL_OPTION_SIZE, exec_size, 0, 1ull << 40, NULL, 0)                                                         \
    X("dma", "1M", "bytes of the DMA window, committed at construction (0: no DMA capability)", HL_OPTION_SIZE, \
      dma_size, 0, 1ull << 40, NULL, 0)

#define HL_SETTINGS caps_settings
static const hl_option_doc option_docs[] = {CAPS_OPTIONS(HL_OPTION_DOC){NULL, NULL, NULL}};
static const hl_option_rule option_rules[] = {CAPS_OPTIONS(HL_OPTION_RULE)};

static void close_all(hl_heap *h)
{
    if (h->plain) h->plain_backend->destroy(h->plain);
    if (h->exec.bits) hl_source_close(&h->exec.source);
    if (h->dma.bits) hl_source_close(&h->dma.source);
    hl_source meta = h->meta; /* the state lives inside the memory it releases */
    hl_source_close(&meta);
}

static hl_error caps_create(const hl_config *config, hl_heap **out)
{
    caps_settings settings = {CAPS_DEFAULT_EXEC, CAPS_DEFAULT_DMA};
    if (hl_options_apply(config, HL_CAPS_NAME, option_docs, option_rules, &settings) != HL_E_OK)
        return HL_E_INVALID_ARGUMENT;
    uint64_t exec_size = settings.exec_size, dma_size = settings.dma_size;
    hl_source_config meta_config;
    hl_source_config_init(&meta_config);
    meta_config.size = 1u << 30;
    hl_source meta;
    char why[200];
    hl_error e = hl_source_open(&meta, &meta_config, NULL, 0, sizeof(struct hl_heap), why, sizeof why);
    if (e != HL_E_OK) return hl_config_say(config, "caps: %s", why), e;
    hl_heap *h = hl_source_host(&meta, meta.origin, sizeof *h);
    memset(h, 0, sizeof *h);
    h->meta = meta;
    h->meta_used = sizeof *h;
    h->has_exec = exec_size >= 4096;
    h->has_dma = dma_size >= CAPS_LINE;
    h->sparse = (config->hints & HL_HINT_SPARSE) != 0;
    if (h->has_exec) e = open_map(h, &h->exec, (size_t)exec_size & ~(size_t)4095, 4096, 0, why, sizeof why);
    if (e == HL_E_OK && h->has_dma)
#ifdef HL_MUTANT_DMA_SHARED_LINE /* TEST-ONLY MUTANT: the DMA window is carved in 16-byte units, not lines */
        e = open_map(h, &h->dma, ((size_t)dma_size + 4095) & ~(size_t)4095, 16, (size_t)dma_size, why, sizeof why);
#else
        e = open_map(h, &h->dma, ((size_t)dma_size + 4095) & ~(size_t)4095, CAPS_LINE, (size_t)dma_size, why, sizeof why);
#endif
    static const hl_option plain_options[] = {{"detect", "0"}};
    hl_config plain_config = {plain_options, 1, NULL, 0, config->error_message, config->error_capacity, false, config->hints};
    h->plain_backend = hl_backend_bins();
    if (e == HL_E_OK) e = h->plain_backend->create(&plain_config, &h->plain);
    if (e != HL_E_OK) {
        close_all(h);
        return hl_config_say(config, "caps: %s", why[0] ? why : "cannot set up its regions"), e;
    }
    hl_tracker_memory memory = {h, tracker_get, tracker_put, false};
    h->capacity = hl_tracker_capacity(h->meta.reserved - h->meta_used); /* its tables come from meta alone */
    hl_tracked_init(&h->kit, &kit_ops, memory, true, true);
    note_footprint(h);
    *out = h;
    return HL_E_OK;
}

static void caps_destroy(hl_heap *h) { close_all(h); }

static void caps_describe(const hl_heap *h, hl_info *info)
{
    memset(info, 0, sizeof *info);
    info->name = HL_CAPS_NAME;
    info->backend_class = HL_CLASS_REFERENCE;
    info->min_align = CAPS_MIN_ALIGN;
    info->max_align = CAPS_MAX_ALIGN;
    info->features = (h->has_exec ? HL_FEATURE_CAP_EXEC : 0) | (h->has_dma ? HL_FEATURE_CAP_DMA : 0);
    info->misuse = HL_MISUSE_FREE_KINDS;
    info->source = "os";
    info->page_size = 4096;
    if (h->has_exec) info->exec_base = h->exec.source.origin, info->exec_size = h->exec.units * h->exec.unit;
    if (h->has_dma) info->dma_base = h->dma.source.origin, info->dma_size = h->dma.units * h->dma.unit;
    info->cache_line = CAPS_LINE;
    info->max_live_blocks = h->capacity;
}

/* ---------------------------------------------------------------- operations */

static hl_addr fail(hl_heap *h, hl_stat_op op, hl_error *error, hl_error e) { return hl_stats_fail(&h->kit.stats, op, error, e); }

static hl_addr caps_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    h->kit.stats.calls[HL_STAT_alloc]++;
    hl_error e = layout_error(h, layout, caps);
    if (e != HL_E_OK) return fail(h, HL_STAT_alloc, error, e);
    if (h->kit.tracker.live_blocks >= h->capacity) return fail(h, HL_STAT_alloc, error, HL_E_CAPACITY);
    if (hl_tracker_reserve(&h->kit.tracker) != HL_E_OK) return fail(h, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    hl_addr block = raw_alloc(h, layout, caps, &e);
    note_footprint(h);
    if (!block) return fail(h, HL_STAT_alloc, error, e ? e : HL_E_OUT_OF_MEMORY);
    hl_tracker_add(&h->kit.tracker, block, layout, caps); /* cannot fail: reserved */
    hl_stats_live(&h->kit.stats, +1, (int64_t)layout.size);
    return block;
}

static hl_error caps_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    h->kit.stats.calls[HL_STAT_free]++;
    if (!block) return HL_E_OK;
    hl_error e = hl_tracker_free(&h->kit.tracker, block, layout, true);
    if (e != HL_E_OK) return h->kit.stats.failures[HL_STAT_free]++, e;
    raw_free(h, block, layout);
    hl_stats_live(&h->kit.stats, -1, -(int64_t)layout.size);
    return HL_E_OK;
}

static size_t caps_usable_size(hl_heap *h, hl_addr block, hl_layout layout)
{
    unit_map *m = in_map(&h->exec, block) ? &h->exec : in_map(&h->dma, block) ? &h->dma : NULL;
    if (!m) return h->plain_backend->usable_size(h->plain, block, layout);
    return units_of(m, layout.size) * m->unit; /* whole pages or lines */
}

/* realloc keeps the caps: in place while the new size fits the block's pages or
 * lines, else a new block of the same capability; on failure the old one is kept. */
static hl_addr caps_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    if (!block) return caps_alloc(h, (hl_layout){size, old.align}, HL_CAP_NONE, error);
    h->kit.stats.calls[HL_STAT_realloc]++;
    const hl_tracked *record = hl_tracker_find(&h->kit.tracker, block);
    hl_caps caps = record ? record->caps : HL_CAP_NONE;
    if (size > SIZE_MAX / 4) return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    unit_map *m = caps & HL_CAP_EXEC ? &h->exec : caps & HL_CAP_DMA ? &h->dma : NULL;
    if (m && units_of(m, size) == units_of(m, old.size)) {
        hl_tracker_moved(&h->kit.tracker, block, block, size);
        hl_stats_resize(&h->kit.stats, old.size, size);
        return block;
    }
    if (hl_tracker_reserve(&h->kit.tracker) != HL_E_OK) return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    hl_error e = HL_E_OK;
    hl_addr fresh = m ? raw_alloc(h, (hl_layout){size, old.align}, caps, &e)
                      : h->plain_backend->realloc(h->plain, block, old, size, &e);
    note_footprint(h);
    if (!fresh) return fail(h, HL_STAT_realloc, error, e ? e : HL_E_OUT_OF_MEMORY);
    if (m) {
        memcpy(view(h, fresh, size ? size : 1), view(h, block, old.size ? old.size : 1), old.size < size ? old.size : size);
        raw_free(h, block, old);
    }
    hl_tracker_moved(&h->kit.tracker, block, fresh, size); /* cannot fail: reserved */
    hl_stats_resize(&h->kit.stats, old.size, size);
    return fresh;
}

/* The pages of [addr, addr + len) if they lie in the exec region's committed part. */
static hl_error exec_range(hl_heap *h, hl_addr addr, size_t len, size_t *offset, size_t *bytes)
{
    if (!h->has_exec || !len || !in_map(&h->exec, addr) || !hl_source_host(&h->exec.source, addr, len))
        return HL_E_INVALID_ARGUMENT;
    size_t start = hl_source_offset(&h->exec.source, addr) & ~(size_t)4095;
    *offset = start;
    *bytes = ((hl_source_offset(&h->exec.source, addr) + len + 4095) & ~(size_t)4095) - start;
    return HL_E_OK;
}

static void caps_flush_data(hl_heap *h, hl_addr addr, size_t len)
{
    (void)h, (void)addr, (void)len; /* x86-64 keeps data caches coherent with devices and fetches */
}

static void caps_invalidate_instruction(hl_heap *h, hl_addr addr, size_t len)
{
    char *start = view(h, addr, len);
    if (start) __builtin___clear_cache(start, start + len);
}

static hl_error caps_seal(hl_heap *h, hl_addr addr, size_t len)
{
    size_t offset, bytes;
    hl_error e = exec_range(h, addr, len, &offset, &bytes);
    if (e != HL_E_OK) return e;
    caps_flush_data(h, addr, len);
    e = hl_source_protect(&h->exec.source, offset, bytes, HL_PROT_RX);
    if (e == HL_E_OK) caps_invalidate_instruction(h, addr, len);
    return e;
}

static hl_error caps_unseal(hl_heap *h, hl_addr addr, size_t len)
{
    size_t offset, bytes;
    hl_error e = exec_range(h, addr, len, &offset, &bytes);
    return e != HL_E_OK ? e : hl_source_protect(&h->exec.source, offset, bytes, HL_PROT_RW);
}

static hl_error caps_check(hl_heap *h, char *message, size_t capacity)
{
    uint64_t exec_units = 0, dma_units = 0;
    unit_map *maps[2] = {&h->exec, &h->dma};
    for (int k = 0; k < 2; k++) {
        unit_map *m = maps[k];
        if (!m->bits) continue;
        size_t counted = 0, words = (m->units + 63) / 64;
        for (size_t w = 0; w < words; w++) { /* bits past the last unit are never set */
            uint64_t x = m->bits[w];
            counted += !x ? 0 : x == ~0ull ? 64 : (size_t)__builtin_popcountll(x);
        }
        if (counted != m->used || m->high > m->units || m->high * m->unit > m->source.committed) {
            snprintf(message, capacity, "%s region: %zu units marked, %zu counted, high mark %zu of %zu",
                     k ? "dma" : "exec", counted, m->used, m->high, m->units);
            return HL_E_CORRUPTED;
        }
    }
    /* every live EXEC or DMA record's units are marked; together they are all of them */
    for (uint32_t i = 0; i <= h->kit.tracker.table_mask && h->kit.tracker.table; i++) {
        const hl_tracked *r = &h->kit.tracker.table[i];
        if (!r->used || !r->live) continue;
        unit_map *m = in_map(&h->exec, r->addr) ? &h->exec : in_map(&h->dma, r->addr) ? &h->dma : NULL;
        if (!m) continue;
        size_t first = hl_source_offset(&m->source, r->addr) / m->unit, n = units_of(m, r->size);
        for (size_t u = first; u < first + n; u++)
            if (u >= m->units || !bit(m, u)) {
                snprintf(message, capacity, "live block 0x%llx has an unmarked unit", (unsigned long long)r->addr);
                return HL_E_CORRUPTED;
            }
        *(m == &h->exec ? &exec_units : &dma_units) += n;
    }
    if (exec_units != h->exec.used || dma_units != h->dma.used) {
        snprintf(message, capacity, "units marked (%zu exec, %zu dma) are not the live blocks' (%llu, %llu)",
                 h->exec.used, h->dma.used, (unsigned long long)exec_units, (unsigned long long)dma_units);
        return HL_E_CORRUPTED;
    }
    if (hl_tracked_check(h, message, capacity) != HL_E_OK) return HL_E_CORRUPTED;
    return h->plain_backend->check(h->plain, message, capacity);
}

const hl_backend *HL_CAPS_GETTER(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, HL_CAPS_NAME, HL_CLASS_REFERENCE,
        "capability regions: EXEC on pages of their own (seal/unseal), DMA on cache lines of their own",
        option_docs, caps_create, caps_destroy, caps_describe, caps_alloc, caps_free, caps_realloc,
        caps_usable_size, view, hl_tracked_mem_copy, hl_tracked_enter_scope, hl_tracked_exit_scope, hl_tracked_promote,
        caps_free_all, caps_seal, caps_unseal, caps_flush_data, caps_invalidate_instruction, hl_tracked_stats, caps_check};
    return &table;
}
