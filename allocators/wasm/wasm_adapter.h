/* wasm_adapter.h: the contract operations of every build of the wasm core, over an
 * "engine" that runs the core: the native core over a linear-memory source (wasm.c),
 * the real module translated by wasm2c (wasm_module.c). One adapter, so the layout
 * checks, the error each failure becomes and the counted calls are the same for all
 * of them, and only the engine can make two of them differ.
 *
 * Included once by each engine's file (its functions are static), after it has
 * defined `struct hl_heap` with an `hl_stats stats` member and these functions, each
 * with the meaning of the wasm_core.h function of the same name (nothing changed on
 * failure):
 *   uint32_t eng_alloc(hl_heap *, uint32_t size, uint32_t align)          hlwc_alloc
 *   uint32_t eng_free(hl_heap *, uint32_t ptr, uint32_t size, uint32_t align)  hlwc_free
 *   uint32_t eng_realloc(hl_heap *, uint32_t ptr, uint32_t old_size, uint32_t new_size)
 *   uint32_t eng_block(hl_heap *, uint32_t ptr, uint32_t *size, uint32_t *align)  hlwc_block
 *   int      eng_copy(hl_heap *, uint32_t dst, uint32_t src, uint32_t n)  hlwc_copy
 *   uint32_t eng_enter(hl_heap *); int eng_exit(hl_heap *, uint32_t handle);
 *   uint32_t eng_promote(hl_heap *, uint32_t handle, uint32_t ptr, uint32_t n);
 *   void     eng_free_all(hl_heap *);
 *   void     eng_live(const hl_heap *, uint32_t *blocks, uint32_t *bytes)  hlwc_stats
 *   uint64_t eng_footprint(const hl_heap *)   the memory's size in bytes
 * The adapter adds what the core does not check (caps, alignment limits, sizes beyond
 * u32) and turns the core's 0 / -1 / codes into named errors, at O(1) cost. */
#ifndef HL_WASM_ADAPTER_H
#define HL_WASM_ADAPTER_H

static void note_footprint(hl_heap *h) { hl_stats_footprint(&h->stats, eng_footprint(h)); }
static hl_addr fail(hl_heap *h, hl_stat_op op, hl_error *error, hl_error e) { return hl_stats_fail(&h->stats, op, error, e); }

static hl_addr wasm_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    h->stats.calls[HL_STAT_alloc]++;
    if (!hl_is_power_of_two(layout.align)) return fail(h, HL_STAT_alloc, error, HL_E_INVALID_ARGUMENT);
    if (caps != HL_CAP_NONE || layout.align > HLWC_MAX_ALIGN) return fail(h, HL_STAT_alloc, error, HL_E_UNSUPPORTED);
    uint32_t p = layout.size <= HLWC_LIMIT ? eng_alloc(h, (uint32_t)layout.size, (uint32_t)layout.align) : 0;
    note_footprint(h);
    return p ? p : fail(h, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
}

/* free with the core's codes; align 0 checks the size only */
static uint32_t free_code(hl_heap *h, hl_addr block, size_t size, uint32_t align)
{
    h->stats.calls[HL_STAT_free]++;
    uint32_t code = block > UINT32_MAX ? HLWC_INVALID_POINTER
                                       : eng_free(h, (uint32_t)block, size > UINT32_MAX ? UINT32_MAX : (uint32_t)size, align);
    if (code != HLWC_OK) h->stats.failures[HL_STAT_free]++;
    return code;
}

static hl_error wasm_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    static const hl_error errors[] = {HL_E_OK, HL_E_INVALID_POINTER, HL_E_LAYOUT_MISMATCH, HL_E_DOUBLE_FREE};
    /* 3 is no block's align: an align that cannot be the block's is a mismatch */
    uint32_t align = hl_is_power_of_two(layout.align) && layout.align <= HLWC_MAX_ALIGN ? (uint32_t)layout.align : 3;
    uint32_t code = free_code(h, block, layout.size, align);
    return code < 4 ? errors[code] : HL_E_CORRUPTED; /* an engine's code out of range */
}

static hl_addr wasm_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    if (!block) return wasm_alloc(h, (hl_layout){size, old.align}, HL_CAP_NONE, error);
    h->stats.calls[HL_STAT_realloc]++;
    uint32_t old_size = 0, align = 0;
    if (block > UINT32_MAX || !eng_block(h, (uint32_t)block, &old_size, &align) || old_size != old.size ||
        align != old.align)
        return fail(h, HL_STAT_realloc, error, HL_E_INVALID_ARGUMENT);
    uint32_t p = size <= HLWC_LIMIT ? eng_realloc(h, (uint32_t)block, old_size, (uint32_t)size) : 0;
    note_footprint(h);
    return p ? p : fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
}

static size_t wasm_usable_size(hl_heap *h, hl_addr block, hl_layout layout)
{
    (void)layout;
    return block <= UINT32_MAX ? eng_block(h, (uint32_t)block, NULL, NULL) : 0;
}

static hl_error wasm_mem_copy(hl_heap *h, hl_addr dst, hl_addr src, size_t n)
{
    h->stats.calls[HL_STAT_mem_copy]++;
    if (dst > UINT32_MAX || src > UINT32_MAX || n > UINT32_MAX || eng_copy(h, (uint32_t)dst, (uint32_t)src, (uint32_t)n) != 0)
        return h->stats.failures[HL_STAT_mem_copy]++, HL_E_INVALID_ARGUMENT;
    return HL_E_OK;
}

static hl_error wasm_enter_scope(hl_heap *h, hl_scope *out)
{
    h->stats.calls[HL_STAT_enter_scope]++;
    uint32_t handle = eng_enter(h);
    if (!handle) return h->stats.failures[HL_STAT_enter_scope]++, HL_E_OUT_OF_MEMORY;
    *out = handle;
    return HL_E_OK;
}

static hl_error wasm_exit_scope(hl_heap *h, hl_scope scope)
{
    h->stats.calls[HL_STAT_exit_scope]++;
    if (scope > UINT32_MAX || eng_exit(h, (uint32_t)scope) != 0)
        return h->stats.failures[HL_STAT_exit_scope]++, HL_E_INVALID_ARGUMENT;
    return HL_E_OK;
}

static hl_addr wasm_promote(hl_heap *h, hl_scope scope, hl_addr block, hl_layout layout, size_t n, hl_error *error)
{
    h->stats.calls[HL_STAT_promote]++;
    uint32_t p = scope <= UINT32_MAX && block <= UINT32_MAX && n <= layout.size && n <= UINT32_MAX
                     ? eng_promote(h, (uint32_t)scope, (uint32_t)block, (uint32_t)n)
                     : 0;
    return p ? p : fail(h, HL_STAT_promote, error, HL_E_INVALID_ARGUMENT);
}

static hl_error wasm_free_all(hl_heap *h)
{
    h->stats.calls[HL_STAT_free_all]++;
    eng_free_all(h);
    hl_stats_restart(&h->stats, eng_footprint(h));
    return HL_E_OK;
}

static void wasm_stats(const hl_heap *h, hl_stats *stats)
{
    *stats = h->stats;
    uint32_t blocks = 0, bytes = 0;
    eng_live(h, &blocks, &bytes);
    stats->live_blocks = blocks;
    stats->live_bytes = bytes;
}

/* What every build of the core declares: the offset-exact group wasm32-core (the
 * core's offsets depend on nothing but the operations), the free misuse checks,
 * native scopes, linear memory of 64 KiB pages; the lean core: wasm32-lean, no misuse
 * checks, no scopes (enter_scope fails with OUT_OF_MEMORY, the one failure the
 * contract gives it: the stream ends there). */
static void wasm_describe_as(hl_info *info, const char *name)
{
    memset(info, 0, sizeof *info);
    info->name = name;
    info->backend_class = HL_CLASS_REFERENCE;
    info->min_align = HLWC_MIN_ALIGN;
    info->max_align = HLWC_MAX_ALIGN;
#ifdef HLWC_LEAN /* no checks, no scopes, realloc always moves */
    info->features = HL_FEATURE_LINEAR_MEMORY | HL_FEATURE_OFFSET_EXACT;
    info->offset_exact_group = "wasm32-lean";
    info->misuse = 0;
#else
    info->features = HL_FEATURE_LINEAR_MEMORY | HL_FEATURE_NATIVE_SCOPES | HL_FEATURE_INPLACE_REALLOC |
                     HL_FEATURE_OFFSET_EXACT;
    info->offset_exact_group = "wasm32-core";
    info->misuse = HL_MISUSE_FREE_KINDS;
#endif
    info->source = "linear";
    info->page_size = HL_LINEAR_PAGE;
}

/* The core's invariant walk (hlwc_check) over a memory at host address base, `pages`
 * pages long, with the heap state at `state_at`: OK, or CORRUPTED with the first broken
 * invariant named after `name`. */
static inline hl_error wasm_check_memory(const char *name, unsigned char *base, uint32_t state_at, uint32_t pages,
                                         char *message, size_t capacity)
{
    static const char *const problems[] = {
        "no problem",
#define WASM_PROBLEM_TEXT(problem, text) text,
        HLWC_PROBLEMS(WASM_PROBLEM_TEXT)
#undef WASM_PROBLEM_TEXT
    };
    hlwc_mem mem = {base, NULL, NULL, state_at};
    uint32_t where, problem = hlwc_check(&mem, pages, &where);
    if (problem == HLWC_PROBLEM_NONE) return HL_E_OK;
    snprintf(message, capacity, "%s: %s (offset 0x%x)", name, problem < HLWC_PROBLEM_COUNT ? problems[problem] : "unknown problem",
             (unsigned)where);
    return HL_E_CORRUPTED;
}

#endif
