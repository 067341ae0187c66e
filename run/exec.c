/* exec.c: the one executor. Applies one operation at a time to one backend instance,
 * keeps the id -> block map (blockmap.c), writes each block's pattern outside the
 * timed call, and hands a result record to the observers. Every front end (replay,
 * diff, fuzz, bench) steps operations through here; none has its own loop.
 *
 * Semantics of a trace on a backend that cannot follow it (CONTRACT.md):
 *   - a failed alloc/realloc leaves the trace's id live but RETIRED here: later
 *     operations on it are skipped and counted;
 *   - `fail=ERROR` operations run, their outcome is not judged; an alloc recorded as
 *     failed that succeeds here is freed at once and its id stays unused, an
 *     enter_scope so is exited at once; a promote so ends the stream (the backend
 *     closed a scope the trace keeps open);
 *   - a failed enter_scope or promote not recorded as failed ends the stream (the
 *     backend's scopes no longer match the trace's), reported as such, not as a
 *     finding;
 *   - misuse goes only to backends that declare the kind, and a stale address only
 *     when it lies in no live block. */
#include "hl_run.h"

#include <stdlib.h>
#include <string.h>

#define EXEC_MAX_OBSERVERS 8

struct hl_exec {
    const hl_backend *backend;
    hl_heap *heap;
    hl_info info;
    char *label;
    hl_blockmap *blocks;
    hl_observer observers[EXEC_MAX_OBSERVERS];
    unsigned observer_count;
    hl_exec_counts counts;
    bool patterns;
    hl_pattern_shape shape;
    hl_timing timing;
    bool catch_faults; /* the backend declares access misuse and the catcher is on */
    /* concurrent stepping: the caller's lock, released around each backend call */
    void (*unlock)(void *context);
    void (*relock)(void *context);
    void *lock_context;
};

hl_exec *hl_exec_new(const hl_backend *backend, hl_heap *heap, const char *label)
{
    hl_exec *exec = hl_mem_alloc(sizeof *exec);
    exec->backend = backend;
    exec->heap = heap;
    backend->describe(heap, &exec->info);
    exec->label = hl_mem_strdup(label ? label : backend->name);
    exec->blocks = hl_blockmap_new();
    hl_blockmap_set_granule(exec->blocks, exec->info.min_align);
    exec->patterns = true;
    exec->shape = HL_PATTERN_TRACE;
    exec->timing = HL_TIMING_PLAIN;
    exec->catch_faults = hl_fault_available() && (exec->info.misuse & HL_MISUSE_ACCESS_KINDS);
    return exec;
}

void hl_exec_reset(hl_exec *exec)
{
    hl_blockmap_reset(exec->blocks);
    memset(&exec->counts, 0, sizeof exec->counts);
}

void hl_exec_write_patterns(hl_exec *exec, bool on) { exec->patterns = on; }
void hl_exec_set_pattern_shape(hl_exec *exec, hl_pattern_shape shape) { exec->shape = shape; }
hl_pattern_shape hl_exec_pattern_shape(const hl_exec *exec) { return exec->shape; }

/* Tells every observer whether other threads' calls may be in flight from now on. */
static void tell_concurrent(hl_exec *exec, bool on)
{
    for (unsigned i = 0; i < exec->observer_count; i++)
        if (exec->observers[i].concurrent) exec->observers[i].concurrent(exec->observers[i].context, on);
}

void hl_exec_concurrent(hl_exec *exec, void (*unlock)(void *context), void (*lock)(void *context), void *context)
{
    exec->unlock = unlock && lock ? unlock : NULL;
    exec->relock = unlock && lock ? lock : NULL;
    exec->lock_context = context;
    /* the catcher is one thread's: another thread's fault would land in its handler */
    exec->catch_faults = !exec->unlock && hl_fault_available() && (exec->info.misuse & HL_MISUSE_ACCESS_KINDS);
    tell_concurrent(exec, exec->unlock != NULL);
}

void hl_exec_alone(hl_exec *exec, bool alone) { tell_concurrent(exec, !alone); }
void hl_exec_time_calls(hl_exec *exec, hl_timing timing) { exec->timing = timing; }

void hl_exec_expect(hl_exec *exec, const hl_op *ops, size_t count)
{
    uint64_t allocs = 0, max_id = 0;
    for (size_t i = 0; i < count; i++) {
        if (ops[i].kind != HL_OP_ALLOC) continue;
        allocs++;
        if (ops[i].id > max_id) max_id = ops[i].id;
    }
    hl_exec_reserve(exec, allocs, max_id);
}

void hl_exec_reserve(hl_exec *exec, uint64_t allocs, uint64_t max_id)
{
    /* an entry per distinct id, not per alloc: a trace that allocates one id a
     * million times needs one entry (ids are at most max_id + 1 apart from 0) */
    uint64_t distinct = max_id < allocs ? max_id + 1 : allocs;
    hl_blockmap_reserve(exec->blocks, distinct, max_id);
}

void hl_exec_free(hl_exec *exec)
{
    if (!exec) return;
    hl_blockmap_free(exec->blocks);
    hl_mem_free(exec->label);
    hl_mem_free(exec);
}

void hl_exec_observe(hl_exec *exec, const hl_observer *observer)
{
    if (exec->observer_count < EXEC_MAX_OBSERVERS) exec->observers[exec->observer_count++] = *observer;
}

const hl_backend *hl_exec_backend(const hl_exec *exec) { return exec->backend; }
hl_heap *hl_exec_heap(const hl_exec *exec) { return exec->heap; }
const hl_info *hl_exec_info(const hl_exec *exec) { return &exec->info; }
const char *hl_exec_label(const hl_exec *exec) { return exec->label; }
hl_blockmap *hl_exec_blocks(hl_exec *exec) { return exec->blocks; }
const hl_exec_counts *hl_exec_counts_of(const hl_exec *exec) { return &exec->counts; }

void *hl_exec_view(hl_exec *exec, hl_addr addr, size_t len)
{
    return exec->backend->mem_view(exec->heap, addr, len ? len : 1);
}

bool hl_exec_access(hl_exec *exec, void (*access)(void *context), void *context, uintptr_t *at)
{
    if (!exec->catch_faults) {
        access(context);
        return true;
    }
    return hl_fault_run(access, context, at);
}

typedef struct fill_job {
    unsigned char *view;
    uint64_t id;
    size_t from, to;
    hl_pattern_shape shape;
} fill_job;

static void fill(void *context)
{
    fill_job *job = context;
    hl_pattern_fill(job->shape, job->view + job->from, job->id, job->from, job->to);
}

static void write_pattern(hl_exec *exec, const hl_block *block, size_t from, size_t to, hl_result *result)
{
    if (from >= to || !exec->patterns) return;
    unsigned char *view = exec->backend->mem_view(exec->heap, block->addr, to);
    if (!view) return;
    fill_job job = {view, block->id, from, to, exec->shape};
    uintptr_t at = 0;
    if (!hl_exec_access(exec, fill, &job, &at)) {
        result->faulted = true;
        result->fault_offset = (size_t)(at - (uintptr_t)view);
    }
}

/* Fills the block's usable size and puts it on the address index. */
static void settle(hl_exec *exec, hl_block *block, hl_result *result)
{
    block->usable = exec->backend->usable_size(exec->heap, block->addr, hl_block_layout(block));
    result->usable = block->usable;
    result->addr = block->addr;
    hl_blockmap_index(exec->blocks, block, &result->overlap, &result->overlap_id);
}

static bool declares(const hl_exec *exec, hl_error kind)
{
    return (exec->info.misuse & HL_MISUSE_BIT(kind)) != 0;
}

static void skip(hl_result *result, const char *reason)
{
    result->skipped = true;
    result->skip_reason = reason;
}

/* A backend call: timed (when on), and with the caller's lock released around it when
 * stepping concurrently, so calls from several threads overlap. Operands are read
 * into locals before it: another thread may change the block map meanwhile. */
#define TIMED(result, call)                                                             \
    do {                                                                                \
        if (exec->unlock) exec->unlock(exec->lock_context);                             \
        if (exec->timing == HL_TIMING_PLAIN) {                                          \
            uint64_t timed_start = hl_clock_ticks();                                    \
            call;                                                                       \
            (result)->elapsed_ticks = hl_clock_ticks() - timed_start;                   \
        } else if (exec->timing == HL_TIMING_FENCED) {                                  \
            uint64_t timed_start = hl_clock_ticks_begin();                              \
            call;                                                                       \
            (result)->elapsed_ticks = hl_clock_ticks_end() - timed_start;               \
        } else {                                                                        \
            call;                                                                       \
        }                                                                               \
        if (exec->unlock) exec->relock(exec->lock_context);                             \
    } while (0)

static void run_alloc(hl_exec *exec, const hl_op *op, hl_result *result)
{
    hl_layout layout = {(size_t)op->size, (size_t)op->align};
    hl_error error = HL_E_OK;
    hl_addr addr;
    if (op->size > SIZE_MAX || op->align > SIZE_MAX) {
        addr = 0;
        error = HL_E_OUT_OF_MEMORY; /* cannot even be asked on this host */
        result->skipped = true;
        result->skip_reason = "size or align does not fit this host's size_t";
    } else {
        TIMED(result, addr = exec->backend->alloc(exec->heap, layout, op->caps, &error));
    }
    hl_block *block = hl_blockmap_get(exec->blocks, op->id);
    hl_block_set_layout(block, layout);
    block->caps = (uint8_t)op->caps;
    if (!addr) {
        result->error = error; /* OK with a null block is the shadow's NULL_BLOCK */
        if (op->expect_fail == HL_E_OK) hl_blockmap_make_live(exec->blocks, block, HL_BLOCK_RETIRED);
        return;
    }
    block->addr = addr;
    hl_blockmap_make_live(exec->blocks, block, HL_BLOCK_LIVE);
    settle(exec, block, result);
    if (!result->overlap) write_pattern(exec, block, 0, layout.size, result);
}

static void run_free(hl_exec *exec, hl_block *block, hl_result *result)
{
    if (block->state == HL_BLOCK_RETIRED) {
        hl_blockmap_make_freed(exec->blocks, block);
        return skip(result, "block was not served by this backend");
    }
    uint64_t id = block->id;
    hl_addr addr = result->addr = block->addr;
    hl_layout layout = hl_block_layout(block);
    /* off the index first: once the free runs, another thread may be handed the address */
    hl_blockmap_unindex(exec->blocks, block);
    TIMED(result, result->error = exec->backend->free(exec->heap, addr, layout));
    block = hl_blockmap_find(exec->blocks, id);
    if (result->error == HL_E_OK) hl_blockmap_make_freed(exec->blocks, block);
    else hl_blockmap_index(exec->blocks, block, &result->overlap, &result->overlap_id); /* still live */
}

static void run_realloc(hl_exec *exec, const hl_op *op, hl_block *block, hl_result *result)
{
    if (block->state == HL_BLOCK_RETIRED) return skip(result, "block was not served by this backend");
    result->old_addr = block->addr;
    result->old_size = block->size;
    if (op->size > SIZE_MAX) {
        result->error = HL_E_OUT_OF_MEMORY;
        return;
    }
    hl_blockmap_unindex(exec->blocks, block);
    hl_error error = HL_E_OK;
    hl_addr addr, old_addr = block->addr;
    hl_layout old_layout = hl_block_layout(block);
    TIMED(result, addr = exec->backend->realloc(exec->heap, old_addr, old_layout, (size_t)op->size, &error));
    block = hl_blockmap_find(exec->blocks, op->id);
    if (!addr) {
        result->error = error ? error : HL_E_OUT_OF_MEMORY;
        settle(exec, block, result); /* the old block is still live */
        return;
    }
    if (addr != block->addr) hl_blockmap_count_free(exec->blocks); /* the old block went */
    block->addr = addr;
    hl_blockmap_resize(exec->blocks, block, (size_t)op->size);
    settle(exec, block, result);
    if (!result->overlap) write_pattern(exec, block, result->old_size, block->size, result);
}

static void run_promote(hl_exec *exec, const hl_op *op, hl_block *block, hl_result *result)
{
    uint32_t level = hl_blockmap_scope_level(exec->blocks, op->scope);
    hl_scope handle = hl_blockmap_scope_handle(exec->blocks, level);
    if (block->state == HL_BLOCK_RETIRED && op->expect_fail != HL_E_OK)
        return skip(result, "block was not served by this backend; the promote was recorded as failed");
    if (block->state == HL_BLOCK_RETIRED) {
        /* The trace keeps this id in the parent; the scopes close all the same. */
        skip(result, "block was not served by this backend; ran as scope_exit");
        TIMED(result, result->error = exec->backend->exit_scope(exec->heap, handle));
        if (result->error == HL_E_OK) {
            hl_blockmap_move_level(exec->blocks, block, level - 1);
            hl_blockmap_close_from(exec->blocks, level);
        }
        return;
    }
    /* n past the block's size here: a recorded failed realloc shrank it; keep it all */
    size_t n = op->size > block->size ? block->size : (size_t)op->size;
    result->old_addr = block->addr;
    result->old_size = block->size;
    hl_blockmap_unindex(exec->blocks, block);
    hl_error error = HL_E_OK;
    hl_addr addr;
    TIMED(result, addr = exec->backend->promote(exec->heap, handle, block->addr, hl_block_layout(block), n, &error));
    if (!addr) {
        result->error = error ? error : HL_E_OUT_OF_MEMORY;
        settle(exec, block, result);
        result->stream_ended = op->expect_fail == HL_E_OK; /* recorded as failed too: the views agree */
        return;
    }
    result->stream_ended = op->expect_fail != HL_E_OK; /* it closed a scope the trace keeps open */
    hl_blockmap_move_level(exec->blocks, block, level - 1);
    hl_blockmap_close_from(exec->blocks, level);
    if (addr != block->addr) hl_blockmap_count_free(exec->blocks);
    block->addr = addr;
    hl_blockmap_resize(exec->blocks, block, n);
    settle(exec, block, result);
}

/* Free-kind misuse: the address to send, or 0 when it must be skipped. */
static hl_addr misuse_address(hl_exec *exec, const hl_op *op, hl_block *block, hl_result *result)
{
    hl_error kind = op->kind == HL_OP_DOUBLE_FREE  ? HL_E_DOUBLE_FREE
                    : op->kind == HL_OP_FREE_LAYOUT ? HL_E_LAYOUT_MISMATCH
                                                    : HL_E_INVALID_POINTER;
    if (!declares(exec, kind)) return skip(result, "misuse kind not declared"), 0;
    if (!block->addr) return skip(result, "block was never served by this backend"), 0;
    if (op->kind == HL_OP_FREE_LAYOUT && block->state == HL_BLOCK_LIVE && block->size == op->size &&
        hl_block_layout(block).align == op->align)
        return skip(result, "the block has this layout here (a recorded failed realloc succeeded)"), 0;
    if (op->kind == HL_OP_FREE_LAYOUT)
        return block->state == HL_BLOCK_LIVE ? block->addr
                                             : (skip(result, "block was not served by this backend"), 0);
    hl_addr addr = block->addr + (op->kind == HL_OP_FREE_INVALID ? op->offset : 0);
    bool interior = op->kind == HL_OP_FREE_INVALID && block->state == HL_BLOCK_LIVE &&
                    op->offset < block->size;
    if (!interior && hl_blockmap_covered(exec->blocks, addr))
        return skip(result, "the stale address lies in a live block now"), 0;
    return addr;
}

static void run_free_misuse(hl_exec *exec, const hl_op *op, hl_block *block, hl_result *result)
{
    hl_addr addr = misuse_address(exec, op, block, result);
    if (!addr) return;
    hl_layout layout = hl_block_layout(block);
    if (op->kind == HL_OP_FREE_LAYOUT) layout = (hl_layout){(size_t)op->size, (size_t)op->align};
    result->addr = addr;
    result->offset = (int64_t)(addr - block->addr);
    TIMED(result, result->error = exec->backend->free(exec->heap, addr, layout));
    /* A backend that accepted a wrong-layout free did free the block. */
    if (result->error == HL_E_OK && op->kind == HL_OP_FREE_LAYOUT)
        hl_blockmap_make_freed(exec->blocks, block);
}

static void read_byte(void *context) { (void)*(volatile unsigned char *)context; }

/* Access misuse (CONTRACT.md): one raw read, bypassing mem_view, at usable_size + J,
 * at -1 - J, or inside a block freed at most Q frees ago, sent only where the backend
 * declares the kind, the fault catcher is on, and the byte lies in no live block. A
 * fault is the detection (result->error = the kind); a completed read is none. */
static void run_access_misuse(hl_exec *exec, const hl_op *op, hl_block *block, hl_result *result)
{
    hl_error kind = op->kind == HL_OP_OVERFLOW    ? HL_E_OVERFLOW
                    : op->kind == HL_OP_UNDERFLOW ? HL_E_UNDERFLOW
                                                  : HL_E_USE_AFTER_FREE;
    if (!declares(exec, kind)) return skip(result, "misuse kind not declared");
    if (!exec->catch_faults) return skip(result, "access misuse needs the fault catcher");
    if (exec->info.features & HL_FEATURE_LINEAR_MEMORY)
        return skip(result, "raw accesses need host addresses, not linear-memory offsets");
    hl_addr addr;
    if (kind == HL_E_USE_AFTER_FREE) {
        if (block->state != HL_BLOCK_FREED || !block->addr) return skip(result, "block was not served by this backend");
        if (hl_blockmap_frees(exec->blocks) - block->freed_at >= exec->info.quarantine)
            return skip(result, "freed more frees ago than the declared quarantine");
        if (op->offset >= block->size) /* the trace's size differs from this backend's */
            return skip(result, "offset past the block's size here (a realloc failed or succeeded here only)");
        result->offset = (int64_t)op->offset;
        addr = block->addr + op->offset;
    } else {
        if (block->state != HL_BLOCK_LIVE) return skip(result, "block was not served by this backend");
        if (op->offset >= exec->info.overflow_reach) return skip(result, "beyond the declared reach");
        result->offset = kind == HL_E_OVERFLOW ? (int64_t)(block->usable + op->offset) : -1 - (int64_t)op->offset;
        addr = block->addr + (hl_addr)result->offset;
    }
    if (hl_blockmap_covered(exec->blocks, addr)) return skip(result, "the address lies in a live block now");
    result->addr = addr;
    uintptr_t at = 0;
    TIMED(result, result->error = hl_fault_run(read_byte, (void *)addr, &at) ? HL_E_OK : kind);
}

static void run(hl_exec *exec, const hl_op *op, hl_result *result)
{
    hl_blockmap *blocks = exec->blocks;
    hl_block *block = NULL;
    switch ((hl_op_kind)op->kind) {
    case HL_OP_ALLOC:
        return run_alloc(exec, op, result);
    case HL_OP_SCOPE_ENTER: {
        hl_scope handle = 0;
        TIMED(result, result->error = exec->backend->enter_scope(exec->heap, &handle));
        bool recorded_failed = op->expect_fail != HL_E_OK;
        if (result->error == HL_E_OK && recorded_failed) /* the trace never opens it */
            exec->backend->exit_scope(exec->heap, handle);
        else if (result->error == HL_E_OK) hl_blockmap_push_scope(blocks, op->scope, handle);
        else if (!recorded_failed) result->stream_ended = true;
        return;
    }
    case HL_OP_SCOPE_EXIT: {
        uint32_t level = hl_blockmap_scope_level(blocks, op->scope);
        TIMED(result, result->error = exec->backend->exit_scope(
                          exec->heap, hl_blockmap_scope_handle(blocks, level)));
        if (result->error == HL_E_OK) hl_blockmap_close_from(blocks, level);
        else result->stream_ended = true;
        return;
    }
    case HL_OP_FREE_ALL:
        TIMED(result, result->error = exec->backend->free_all(exec->heap));
        if (result->error == HL_E_OK) hl_blockmap_close_from(blocks, 0);
        else result->stream_ended = true;
        return;
    default:
        break;
    }
    /* Every other kind names a block the trace checker saw allocated. */
    block = hl_blockmap_find(blocks, op->id);
    if (!block) return skip(result, "unknown block id");
    switch ((hl_op_kind)op->kind) {
    case HL_OP_FREE:
        return run_free(exec, block, result);
    case HL_OP_REALLOC:
        return run_realloc(exec, op, block, result);
    case HL_OP_USABLE: {
        if (block->state != HL_BLOCK_LIVE) return skip(result, "block was not served by this backend");
        hl_addr addr = result->addr = block->addr;
        hl_layout layout = hl_block_layout(block);
        TIMED(result, result->usable = exec->backend->usable_size(exec->heap, addr, layout));
        return;
    }
    case HL_OP_TOUCH:
        if (block->state != HL_BLOCK_LIVE) return skip(result, "block was not served by this backend");
        result->addr = block->addr;
        if (op->offset + op->size > block->size)
            return skip(result, "range lies past the block's size here (a recorded failed realloc succeeded)");
        if (op->write) write_pattern(exec, block, (size_t)op->offset, (size_t)(op->offset + op->size), result);
        return; /* reads are verified by the observers */
    case HL_OP_PROMOTE:
        return run_promote(exec, op, block, result);
    case HL_OP_DOUBLE_FREE:
    case HL_OP_FREE_INVALID:
    case HL_OP_FREE_LAYOUT:
        return run_free_misuse(exec, op, block, result);
    case HL_OP_OVERFLOW:
    case HL_OP_UNDERFLOW:
    case HL_OP_AFTER_FREE:
        return run_access_misuse(exec, op, block, result);
    default:
        return skip(result, "operation kind not handled");
    }
}

int hl_exec_step(hl_exec *exec, const hl_op *op, uint64_t index)
{
    for (unsigned i = 0; i < exec->observer_count; i++)
        if (exec->observers[i].before &&
            exec->observers[i].before(exec->observers[i].context, exec, op, index))
            return 1;
    hl_result result;
    memset(&result, 0, sizeof result);
    result.index = index;
    result.op = op;
    run(exec, op, &result);

    /* A recorded-as-failed alloc that succeeds here is freed at once; its id stays
     * unused (after the observers have judged the block itself). */
    int stop = 0;
    for (unsigned i = 0; i < exec->observer_count && !stop; i++)
        if (exec->observers[i].after) stop = exec->observers[i].after(exec->observers[i].context, exec, &result);
    if (op->kind == HL_OP_ALLOC && op->expect_fail != HL_E_OK && result.error == HL_E_OK) {
        hl_block *block = hl_blockmap_find(exec->blocks, op->id);
        if (block && block->state == HL_BLOCK_LIVE && exec->backend->free(exec->heap, block->addr, hl_block_layout(block)) == HL_E_OK)
            hl_blockmap_make_freed(exec->blocks, block);
    }

    hl_exec_counts *c = &exec->counts;
    c->ops++;
    if (result.skipped) c->skipped++;
    else c->sent++;
    if (!result.skipped && result.error != HL_E_OK) c->failures++;
    c->elapsed_ticks += result.elapsed_ticks;
    if (stop) return 1;
    return result.stream_ended ? 2 : 0;
}

/* How far ahead each stage looks: far enough that the load has landed when the next
 * stage (or the step) needs it, near enough that it is still in cache. (A third
 * stage that loaded the blocks' first bytes measured no faster, so there is none.) */
#define AHEAD_SLOT 16
#define AHEAD_ENTRY 8

void hl_exec_prefetch(hl_exec *exec, const hl_op *ops, size_t count, size_t index)
{
    if (index + AHEAD_SLOT < count) {
        hl_blockmap_prefetch(exec->blocks, ops[index + AHEAD_SLOT].id, false);
        for (unsigned i = 0; i < exec->observer_count; i++)
            if (exec->observers[i].prefetch)
                exec->observers[i].prefetch(exec->observers[i].context, ops[index + AHEAD_SLOT].id, false);
    }
    if (index + AHEAD_ENTRY < count) {
        hl_blockmap_prefetch(exec->blocks, ops[index + AHEAD_ENTRY].id, true);
        for (unsigned i = 0; i < exec->observer_count; i++)
            if (exec->observers[i].prefetch)
                exec->observers[i].prefetch(exec->observers[i].context, ops[index + AHEAD_ENTRY].id, true);
    }
}

hl_error hl_exec_retire(hl_exec *exec, uint64_t id)
{
    hl_block *block = hl_blockmap_find(exec->blocks, id);
    if (!block || block->state != HL_BLOCK_LIVE) return HL_E_OK; /* not served here: retired already */
    hl_error e = exec->backend->free(exec->heap, block->addr, hl_block_layout(block));
    if (e == HL_E_OK) hl_blockmap_retire(exec->blocks, block);
    return e;
}

typedef struct teardown {
    hl_exec *exec;
    hl_watch *watch;
    uint64_t freed, *failed_id;
    hl_error *failed;
} teardown;

static void free_leftover(void *context, hl_block *block)
{
    teardown *t = context;
    if (t->watch) t->watch->block = block->id, t->watch->beat++;
    hl_error e = t->exec->backend->free(t->exec->heap, block->addr, hl_block_layout(block));
    if (e == HL_E_OK) {
        hl_blockmap_make_freed(t->exec->blocks, block);
        t->freed++;
    } else if (*t->failed == HL_E_OK) {
        *t->failed = e;
        *t->failed_id = block->id;
    }
}

uint64_t hl_exec_teardown(hl_exec *exec, hl_watch *watch, uint64_t *failed_id, hl_error *failed)
{
    hl_watch_phase(watch, HL_PHASE_TEARDOWN);
    *failed = HL_E_OK;
    teardown t = {exec, watch, 0, failed_id, failed};
    hl_blockmap_visit_live_by_id(exec->blocks, free_leftover, &t);
    return t.freed;
}

int hl_exec_finish(hl_exec *exec)
{
    int found = 0;
    for (unsigned i = 0; i < exec->observer_count; i++)
        if (exec->observers[i].finish && exec->observers[i].finish(exec->observers[i].context, exec))
            found = 1;
    return found;
}
