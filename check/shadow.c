/* shadow.c: the shadow model, the first observer. An independent, simple check of
 * every operation against the contract (CONTRACT.md, "What the shadow model checks
 * on every operation"). It reads the backend only through mem_view, usable_size,
 * stats and check, and stops the stream at the first divergence.
 *
 * Contents: the executor writes each block's pattern; the shadow verifies a block's
 * bytes whenever the block is about to be freed, reallocated, promoted, exited or
 * read by a touch, the prefix after a move, and every live block at the end. */
#include "hl_check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct hl_shadow {
    uint64_t check_every;
    uint64_t since_check;
    uint64_t check_ended;  /* HL_CHECK_PACED: clock ticks when the last check ended */
    uint64_t check_took;   /* and how long it took */
    bool found;
    bool concurrent; /* other operations in flight: no whole-backend checks */
    hl_finding finding;
    const hl_op *op; /* the operation in flight */
    uint64_t index;
    uint64_t detections;
    hl_detection kept[HL_DETECTIONS_KEPT];
};

uint64_t hl_shadow_detections(const hl_shadow *shadow, const hl_detection **kept)
{
    if (kept) *kept = shadow->kept;
    return shadow->detections;
}

static void detected(hl_shadow *shadow, const hl_result *r, hl_error kind)
{
    if (shadow->detections < HL_DETECTIONS_KEPT)
        shadow->kept[shadow->detections] = (hl_detection){r->index, r->op->line, kind, r->op->id, r->offset};
    shadow->detections++;
}

hl_shadow *hl_shadow_new(uint64_t check_every)
{
    hl_shadow *shadow = hl_mem_alloc(sizeof *shadow);
    shadow->check_every = check_every;
    return shadow;
}

void hl_shadow_free(hl_shadow *shadow) { hl_mem_free(shadow); }

void hl_shadow_concurrent(hl_shadow *shadow, bool on) { shadow->concurrent = on; }

const hl_finding *hl_shadow_finding(const hl_shadow *shadow)
{
    return shadow->found ? &shadow->finding : NULL;
}

static int diverge(hl_shadow *shadow, hl_rule rule, const char *fmt, ...)
{
    if (shadow->found) return 1;
    shadow->found = true;
    shadow->finding.rule = rule;
    shadow->finding.index = shadow->index;
    shadow->finding.line = shadow->op ? shadow->op->line : 0;
    va_list args;
    va_start(args, fmt);
    vsnprintf(shadow->finding.message, sizeof shadow->finding.message, fmt, args);
    va_end(args);
    return 1;
}

/* ---------------------------------------------------------------- contents */

typedef struct verify_job {
    const unsigned char *view;
    uint64_t id;
    size_t from, to, bad;
    bool same;
} verify_job;

static void verify(void *context)
{
    verify_job *job = context;
    job->same = hl_pattern_verify(job->view + job->from, job->id, job->from, job->to, &job->bad);
}

/* Verifies bytes [from, to) of block (at addr) hold its pattern. */
static int verify_range(hl_shadow *shadow, hl_exec *exec, uint64_t id, hl_addr addr, size_t from,
                        size_t to, hl_rule rule, const char *when)
{
    if (from >= to) return 0;
    const unsigned char *view = hl_exec_view(exec, addr, to);
    if (!view)
        return diverge(shadow, HL_RULE_OUTSIDE_FOOTPRINT,
                       "block id %" PRIu64 " at 0x%" PRIxPTR " (+%zu bytes) is outside the backend's memory %s",
                       id, addr, to, when);
    verify_job job = {view, id, from, to, 0, true};
    uintptr_t at = 0;
    if (!hl_exec_access(exec, verify, &job, &at))
        return diverge(shadow, HL_RULE_ACCESS_FAULT, "block id %" PRIu64 " at 0x%" PRIxPTR ": reading byte %zu faulted %s",
                       id, addr, (size_t)(at - (uintptr_t)view), when);
    if (!job.same)
        return diverge(shadow, rule, "block id %" PRIu64 " at 0x%" PRIxPTR ": byte %zu of %zu changed %s", id,
                       addr, job.bad, to, when);
    return 0;
}

static int verify_block(hl_shadow *shadow, hl_exec *exec, const hl_block *block, const char *when)
{
    if (block->state != HL_BLOCK_LIVE) return 0;
    return verify_range(shadow, exec, block->id, block->addr, 0, block->layout.size, HL_RULE_CONTENTS, when);
}

typedef struct visit_state {
    hl_shadow *shadow;
    hl_exec *exec;
    const char *when;
    int stop;
} visit_state;

static void visit_verify(void *context, hl_block *block)
{
    visit_state *v = context;
    if (!v->stop) v->stop = verify_block(v->shadow, v->exec, block, v->when);
}

static int verify_from_level(hl_shadow *shadow, hl_exec *exec, uint32_t level, const char *when)
{
    visit_state v = {shadow, exec, when, 0};
    hl_blockmap_visit_from(hl_exec_blocks(exec), level, visit_verify, &v);
    return v.stop;
}

static int before(void *context, hl_exec *exec, const hl_op *op, uint64_t index)
{
    hl_shadow *shadow = context;
    shadow->op = op;
    shadow->index = index;
    hl_blockmap *blocks = hl_exec_blocks(exec);
    switch ((hl_op_kind)op->kind) {
    case HL_OP_FREE:
    case HL_OP_REALLOC: {
        hl_block *block = hl_blockmap_find(blocks, op->id);
        return block ? verify_block(shadow, exec, block, "before it was freed or reallocated") : 0;
    }
    case HL_OP_TOUCH: {
        hl_block *block = hl_blockmap_find(blocks, op->id);
        if (!block || block->state != HL_BLOCK_LIVE || op->write) return 0;
        if (op->offset + op->size > block->layout.size) return 0;
        return verify_range(shadow, exec, block->id, block->addr, (size_t)op->offset,
                            (size_t)(op->offset + op->size), HL_RULE_CONTENTS, "(read by a touch)");
    }
    case HL_OP_SCOPE_EXIT:
    case HL_OP_PROMOTE: {
        uint32_t level = hl_blockmap_scope_level(blocks, op->scope);
        return level ? verify_from_level(shadow, exec, level, "before its scope closed") : 0;
    }
    case HL_OP_FREE_ALL:
        return verify_from_level(shadow, exec, 0, "before free_all");
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- results */

static bool legal_alloc_error(hl_error e)
{
    return e == HL_E_OUT_OF_MEMORY || e == HL_E_UNSUPPORTED || e == HL_E_CAPACITY;
}

static bool inside(hl_addr addr, size_t len, hl_addr base, size_t size)
{
    return addr >= base && addr - base <= size && len <= size - (addr - base);
}

/* The other blocks stay off the unit-aligned span [lo, hi) around the block's own
 * bytes [addr, end) (the block itself is already on the address index; other blocks
 * start on the minimum alignment, so the rest of its last granule is its own). */
static bool span_shared(hl_exec *exec, hl_addr addr, hl_addr end, size_t unit)
{
    size_t align = hl_exec_info(exec)->min_align ? hl_exec_info(exec)->min_align : 1;
    hl_addr lo = addr & ~(hl_addr)(unit - 1), hi = (end + unit - 1) & ~(hl_addr)(unit - 1);
    hl_addr after = (end + align - 1) & ~(hl_addr)(align - 1);
    hl_blockmap *blocks = hl_exec_blocks(exec);
    return hl_blockmap_any(blocks, lo, addr) || hl_blockmap_any(blocks, after, hi);
}

/* CONTRACT.md, capabilities: EXEC blocks in the exec region on pages of their own,
 * DMA blocks in the DMA window on cache lines of their own, and no other block in
 * either region (so no later block can share their pages or lines). */
static int check_caps(hl_shadow *shadow, hl_exec *exec, const hl_result *r, size_t size, hl_caps caps)
{
    const hl_info *info = hl_exec_info(exec);
    uint64_t id = r->op->id;
    size_t len = size ? size : 1;
    if (info->features & HL_FEATURE_CAP_EXEC) {
        bool in_region = inside(r->addr, len, info->exec_base, info->exec_size);
        if ((caps & HL_CAP_EXEC) && !in_region)
            return diverge(shadow, HL_RULE_CAPS_EXEC, "EXEC block id %" PRIu64 " at 0x%" PRIxPTR " lies outside the exec region",
                           id, r->addr);
        if (!(caps & HL_CAP_EXEC) && inside(r->addr, 1, info->exec_base, info->exec_size))
            return diverge(shadow, HL_RULE_CAPS_EXEC, "block id %" PRIu64 " without EXEC lies in the exec region", id);
        if ((caps & HL_CAP_EXEC) && info->page_size && span_shared(exec, r->addr, r->addr + len, info->page_size))
            return diverge(shadow, HL_RULE_CAPS_EXEC, "EXEC block id %" PRIu64 " at 0x%" PRIxPTR " shares a page with another block",
                           id, r->addr);
    }
    if (info->features & HL_FEATURE_CAP_DMA) {
        size_t line = info->cache_line ? info->cache_line : 64;
        bool in_window = inside(r->addr, len, info->dma_base, info->dma_size);
        if ((caps & HL_CAP_DMA) && (!in_window || (r->addr & (line - 1))))
            return diverge(shadow, HL_RULE_CAPS_DMA, "DMA block id %" PRIu64 " at 0x%" PRIxPTR
                           " is outside the DMA window or not cache-line aligned", id, r->addr);
        if (!(caps & HL_CAP_DMA) && inside(r->addr, 1, info->dma_base, info->dma_size))
            return diverge(shadow, HL_RULE_CAPS_DMA, "block id %" PRIu64 " without DMA lies in the DMA window", id);
        if ((caps & HL_CAP_DMA) && span_shared(exec, r->addr, r->addr + len, line))
            return diverge(shadow, HL_RULE_CAPS_DMA, "DMA block id %" PRIu64 " at 0x%" PRIxPTR " shares a cache line", id,
                           r->addr);
    }
    return 0;
}

/* The checks every block handed out must pass. */
static int check_block(hl_shadow *shadow, hl_exec *exec, const hl_result *r, size_t size, size_t align,
                       hl_caps caps)
{
    const hl_info *info = hl_exec_info(exec);
    uint64_t id = r->op->id;
    if (!r->addr) return diverge(shadow, HL_RULE_NULL_BLOCK, "block id %" PRIu64 " is the null block", id);
    size_t want = align > info->min_align ? align : info->min_align;
    if (hl_is_power_of_two(want) && (r->addr & (want - 1)))
        return diverge(shadow, HL_RULE_ALIGNMENT, "block id %" PRIu64 " at 0x%" PRIxPTR " is not aligned to %zu",
                       id, r->addr, want);
    if (r->overlap) {
        shadow->finding.has_other = true;
        shadow->finding.other_id = r->overlap_id;
        return diverge(shadow, HL_RULE_OVERLAP,
                       "block id %" PRIu64 " at 0x%" PRIxPTR " (%zu bytes) overlaps live block id %" PRIu64, id,
                       r->addr, size, r->overlap_id);
    }
    if (info->backend_class == HL_CLASS_REFERENCE && !hl_exec_view(exec, r->addr, size))
        return diverge(shadow, HL_RULE_OUTSIDE_FOOTPRINT,
                       "block id %" PRIu64 " at 0x%" PRIxPTR " (%zu bytes) is outside committed memory", id,
                       r->addr, size);
    if (r->usable < size)
        return diverge(shadow, HL_RULE_USABLE_SIZE, "block id %" PRIu64 ": usable_size %zu < size %zu", id,
                       r->usable, size);
    uint32_t lacking = caps & ~((info->features & HL_FEATURE_CAP_EXEC ? HL_CAP_EXEC : 0) |
                                (info->features & HL_FEATURE_CAP_DMA ? HL_CAP_DMA : 0));
    if (lacking)
        return diverge(shadow, HL_RULE_CAPS_IGNORED,
                       "block id %" PRIu64 " was served with caps 0x%x the instance does not have", id, lacking);
    return check_caps(shadow, exec, r, size, caps);
}

static int check_alloc(hl_shadow *shadow, hl_exec *exec, const hl_result *r)
{
    const hl_op *op = r->op;
    bool bad_align = !hl_is_power_of_two((size_t)op->align);
    if (r->error == HL_E_OK && !r->addr)
        return diverge(shadow, HL_RULE_NULL_BLOCK, "alloc reported success with the null block");
    if (r->error == HL_E_OK) {
        if (bad_align && op->expect_fail == HL_E_OK)
            return diverge(shadow, HL_RULE_MISSED_ERROR,
                           "alloc with align %" PRIu64 " (not a power of two) succeeded; INVALID_ARGUMENT expected",
                           op->align);
        return check_block(shadow, exec, r, (size_t)op->size, (size_t)op->align, op->caps);
    }
    if (op->expect_fail != HL_E_OK) return 0;
    if (bad_align ? r->error != HL_E_INVALID_ARGUMENT
                  : !(legal_alloc_error(r->error) ||
                      (r->error == HL_E_INVALID_ARGUMENT && op->size > SIZE_MAX - op->align)))
        return diverge(shadow, HL_RULE_WRONG_ERROR, "alloc of %" PRIu64 " bytes, align %" PRIu64 " failed with %s",
                       op->size, op->align, hl_error_name(r->error));
    return 0;
}

static int check_moved(hl_shadow *shadow, hl_exec *exec, const hl_result *r, const char *what, hl_rule prefix_rule)
{
    hl_block *block = hl_blockmap_find(hl_exec_blocks(exec), r->op->id);
    if (r->error != HL_E_OK) {
        bool legal = r->op->kind == HL_OP_PROMOTE ? r->error == HL_E_OUT_OF_MEMORY : legal_alloc_error(r->error);
        if (!legal && r->op->expect_fail == HL_E_OK)
            return diverge(shadow, HL_RULE_WRONG_ERROR, "%s failed with %s", what, hl_error_name(r->error));
        /* failure changes nothing: the old block is live with its bytes */
        return verify_range(shadow, exec, block->id, block->addr, 0, block->layout.size, HL_RULE_FAILURE_CHANGED,
                            "after a failed operation");
    }
    size_t size = block->layout.size;
    if (check_block(shadow, exec, r, size, block->layout.align, block->caps)) return 1;
    size_t keep = r->old_size < size ? r->old_size : size;
    return verify_range(shadow, exec, block->id, r->addr, 0, keep, prefix_rule, "(the kept prefix)");
}

static int check_misuse(hl_shadow *shadow, const hl_result *r)
{
    hl_error want = r->op->kind == HL_OP_DOUBLE_FREE   ? HL_E_DOUBLE_FREE
                    : r->op->kind == HL_OP_FREE_LAYOUT ? HL_E_LAYOUT_MISMATCH
                                                       : HL_E_INVALID_POINTER;
    if (r->error == want) return detected(shadow, r, want), 0;
    /* A backend may have forgotten a freed address (free_all, quarantine expiry): for
     * it, a double free is a pointer it never handed out. */
    if (want == HL_E_DOUBLE_FREE && r->error == HL_E_INVALID_POINTER) return detected(shadow, r, r->error), 0;
    /* An interior or stray address may be exactly where another block was freed: for a
     * backend that remembers freed starts, that is a double free. */
    if (want == HL_E_INVALID_POINTER && r->error == HL_E_DOUBLE_FREE) return detected(shadow, r, r->error), 0;
    if (r->error == HL_E_OK)
        return diverge(shadow, HL_RULE_MISUSE_MISSED, "%s of block id %" PRIu64 " at 0x%" PRIxPTR
                       " was accepted; %s expected", hl_op_name((hl_op_kind)r->op->kind), r->op->id, r->addr,
                       hl_error_name(want));
    return diverge(shadow, HL_RULE_WRONG_ERROR, "%s of block id %" PRIu64 " returned %s; %s expected",
                   hl_op_name((hl_op_kind)r->op->kind), r->op->id, hl_error_name(r->error), hl_error_name(want));
}

/* An access misuse was sent: the declared detection must fire (the access faults). */
static int check_access_misuse(hl_shadow *shadow, const hl_result *r)
{
    hl_error want = r->op->kind == HL_OP_OVERFLOW    ? HL_E_OVERFLOW
                    : r->op->kind == HL_OP_UNDERFLOW ? HL_E_UNDERFLOW
                                                     : HL_E_USE_AFTER_FREE;
    if (r->error == want) return detected(shadow, r, want), 0;
    return diverge(shadow, HL_RULE_MISUSE_MISSED, "%s of block id %" PRIu64 " at offset %" PRId64
                   " (0x%" PRIxPTR ") did not fault; %s is declared",
                   hl_op_name((hl_op_kind)r->op->kind), r->op->id, r->offset, r->addr, hl_error_name(want));
}

static int check_result(hl_shadow *shadow, hl_exec *exec, const hl_result *r)
{
    if (r->faulted)
        return diverge(shadow, HL_RULE_ACCESS_FAULT, "writing byte %zu of block id %" PRIu64 " faulted", r->fault_offset,
                       r->op->id);
    const hl_op *op = r->op;
    switch ((hl_op_kind)op->kind) {
    case HL_OP_ALLOC:
        return check_alloc(shadow, exec, r);
    case HL_OP_REALLOC:
        return check_moved(shadow, exec, r, "realloc", HL_RULE_REALLOC_PREFIX);
    case HL_OP_PROMOTE:
        return check_moved(shadow, exec, r, "promote", HL_RULE_PROMOTE_PREFIX);
    case HL_OP_USABLE: {
        hl_block *block = hl_blockmap_find(hl_exec_blocks(exec), op->id);
        if (r->usable < block->layout.size)
            return diverge(shadow, HL_RULE_USABLE_SIZE, "usable_size of block id %" PRIu64 " is %zu < size %zu",
                           op->id, r->usable, block->layout.size);
        return 0;
    }
    case HL_OP_SCOPE_ENTER:
        if (r->error != HL_E_OK && r->error != HL_E_OUT_OF_MEMORY)
            return diverge(shadow, HL_RULE_WRONG_ERROR, "enter_scope failed with %s", hl_error_name(r->error));
        return 0;
    case HL_OP_FREE:
    case HL_OP_SCOPE_EXIT:
    case HL_OP_FREE_ALL:
        if (r->error != HL_E_OK)
            return diverge(shadow, HL_RULE_WRONG_ERROR, "%s failed with %s", hl_op_name((hl_op_kind)op->kind),
                           hl_error_name(r->error));
        return 0;
    case HL_OP_DOUBLE_FREE:
    case HL_OP_FREE_INVALID:
    case HL_OP_FREE_LAYOUT:
        return check_misuse(shadow, r);
    case HL_OP_OVERFLOW:
    case HL_OP_UNDERFLOW:
    case HL_OP_AFTER_FREE:
        return check_access_misuse(shadow, r);
    default:
        return 0;
    }
}

/* Stats must agree with the model after every operation. */
static int check_stats(hl_shadow *shadow, hl_exec *exec)
{
    hl_stats stats;
    memset(&stats, 0, sizeof stats);
    hl_exec_backend(exec)->stats(hl_exec_heap(exec), &stats);
    hl_blockmap *blocks = hl_exec_blocks(exec);
    uint64_t live = hl_blockmap_live_blocks(blocks), bytes = hl_blockmap_live_bytes(blocks);
    hl_op_kind kind = shadow->op ? (hl_op_kind)shadow->op->kind : HL_OP_COUNT;
    if (stats.live_blocks != live && (kind == HL_OP_SCOPE_EXIT || kind == HL_OP_PROMOTE || kind == HL_OP_FREE_ALL))
        return diverge(shadow, HL_RULE_SCOPE_FREED_SET,
                       "after %s the backend holds %" PRIu64 " live blocks, the scope semantics leave %" PRIu64,
                       hl_op_name(kind), stats.live_blocks, live);
    if (stats.live_blocks != live)
        return diverge(shadow, HL_RULE_STATS_LIVE_BLOCKS, "stats say %" PRIu64 " live blocks, the model %" PRIu64,
                       stats.live_blocks, live);
    if (stats.live_bytes != bytes)
        return diverge(shadow, HL_RULE_STATS_LIVE_BYTES, "stats say %" PRIu64 " live bytes, the model %" PRIu64,
                       stats.live_bytes, bytes);
    if (hl_exec_info(exec)->backend_class == HL_CLASS_REFERENCE && stats.footprint < bytes)
        return diverge(shadow, HL_RULE_STATS_FOOTPRINT, "footprint %" PRIu64 " is below the %" PRIu64 " live bytes",
                       stats.footprint, bytes);
    if (stats.peak_footprint < stats.footprint)
        return diverge(shadow, HL_RULE_STATS_FOOTPRINT, "peak footprint %" PRIu64 " is below the footprint %" PRIu64,
                       stats.peak_footprint, stats.footprint);
    return 0;
}

static int run_check(hl_shadow *shadow, hl_exec *exec)
{
    char message[400] = "";
    hl_error e = hl_exec_backend(exec)->check(hl_exec_heap(exec), message, sizeof message);
    if (e != HL_E_OK)
        return diverge(shadow, HL_RULE_CHECK_FAILED, "check: %s: %s", hl_error_name(e), message);
    return 0;
}

static int after(void *context, hl_exec *exec, const hl_result *r)
{
    hl_shadow *shadow = context;
    if (shadow->found) return 1;
    shadow->op = r->op; /* another thread's before may have run since this one's */
    shadow->index = r->index;
    if (!r->skipped && check_result(shadow, exec, r)) return 1;
    if (shadow->concurrent) return 0;
    if (check_stats(shadow, exec)) return 1;
    if (!shadow->check_every) return 0;
    ++shadow->since_check;
    if (shadow->check_every != HL_CHECK_PACED) {
        if (shadow->since_check < shadow->check_every) return 0;
        shadow->since_check = 0;
        return run_check(shadow, exec);
    }
    /* paced: look at the clock only every 256 operations past the minimum */
    if (shadow->since_check < HL_CHECK_PACED_MIN || (shadow->since_check & 255) != 0) return 0;
    uint64_t now = hl_clock_ticks();
    if (now - shadow->check_ended < 19 * shadow->check_took) return 0;
    shadow->since_check = 0;
    int stop = run_check(shadow, exec);
    shadow->check_ended = hl_clock_ticks();
    shadow->check_took = shadow->check_ended - now;
    return stop;
}

static int finish(void *context, hl_exec *exec)
{
    hl_shadow *shadow = context;
    if (shadow->found) return 1;
    shadow->op = NULL;
    shadow->index = hl_exec_counts_of(exec)->ops; /* past the last operation */
    if (check_stats(shadow, exec) || run_check(shadow, exec)) return 1;
    return verify_from_level(shadow, exec, 0, "at the end of the trace");
}

static void concurrent(void *context, bool on) { hl_shadow_concurrent(context, on); }

hl_observer hl_shadow_observer(hl_shadow *shadow)
{
    hl_observer observer = {"shadow", shadow, before, after, finish, concurrent};
    return observer;
}
