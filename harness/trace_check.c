/* trace_check.c: is a trace consistent with itself (CONTRACT.md, "Operations in
 * traces")? Walks the operations through a block map exactly as the executor will,
 * without a backend: the trace's own view of which ids are live and which scopes
 * are open. A recorded failure (fail=) changes nothing in that view. */
#include "hl_harness.h"

#include <stdarg.h>
#include <stdio.h>

static int bad(hl_diag *diag, const hl_trace *trace, const hl_op *op, const char *fmt, ...)
{
    char what[400];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    if (trace->form == HL_TRACE_TEXT)
        snprintf(diag->message, sizeof diag->message, "%s:%llu: %s: %s", trace->path,
                 (unsigned long long)op->line, hl_op_name((hl_op_kind)op->kind), what);
    else
        snprintf(diag->message, sizeof diag->message, "%s: byte %llu: %s: %s", trace->path,
                 (unsigned long long)op->line, hl_op_name((hl_op_kind)op->kind), what);
    return -1;
}

static bool may_fail(hl_op_kind kind)
{
    return kind == HL_OP_ALLOC || kind == HL_OP_REALLOC || kind == HL_OP_SCOPE_ENTER ||
           kind == HL_OP_PROMOTE;
}

static const char *state_text(const hl_block *block)
{
    return !block ? "was never allocated" : "is not live";
}

/* Checks one operation against the map and applies its effect when it is valid (each
 * case applies an effect only in its valid branch). Returns 0, or -1 with diag. */
static int check_op(hl_blockmap *map, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    int rc = 0;
    hl_op_kind kind = (hl_op_kind)op->kind;
    bool failed = op->expect_fail != HL_E_OK;
    if (failed && !may_fail(kind))
        return bad(diag, trace, op, "fail= is only allowed on alloc, realloc, scope_enter and promote");
    hl_block *block = NULL;
    if (kind != HL_OP_ALLOC && kind != HL_OP_SCOPE_ENTER && kind != HL_OP_SCOPE_EXIT &&
        kind != HL_OP_FREE_ALL)
        block = hl_blockmap_find(map, op->id);
    bool live = block && block->state == HL_BLOCK_LIVE;
    unsigned long long id = (unsigned long long)op->id;
    switch (kind) {
    case HL_OP_ALLOC:
        block = hl_blockmap_get(map, op->id);
        if (block->state == HL_BLOCK_LIVE) {
            rc = bad(diag, trace, op, "block id %llu is already live", id);
            break;
        }
        block->layout = (hl_layout){(size_t)op->size, (size_t)op->align};
        if (!failed) hl_blockmap_make_live(map, block, HL_BLOCK_LIVE);
        break;
    case HL_OP_FREE:
    case HL_OP_USABLE:
    case HL_OP_OVERFLOW:
    case HL_OP_UNDERFLOW:
        if (!live) rc = bad(diag, trace, op, "block id %llu %s", id, state_text(block));
        else if (kind == HL_OP_FREE) hl_blockmap_make_freed(map, block);
        break;
    case HL_OP_REALLOC:
        if (!live) rc = bad(diag, trace, op, "block id %llu %s", id, state_text(block));
        else if (!failed) hl_blockmap_resize(map, block, (size_t)op->size);
        break;
    case HL_OP_TOUCH:
        if (!live) rc = bad(diag, trace, op, "block id %llu %s", id, state_text(block));
        else if (op->offset > block->layout.size || op->size > block->layout.size - op->offset)
            rc = bad(diag, trace, op,
                     "range [%llu, +%llu) lies outside block id %llu of size %llu (use overflow for out-of-bounds access)",
                     (unsigned long long)op->offset, (unsigned long long)op->size, id,
                     (unsigned long long)block->layout.size);
        break;
    case HL_OP_SCOPE_ENTER:
        if (hl_blockmap_scope_level(map, op->scope))
            rc = bad(diag, trace, op, "scope %u is already open", op->scope);
        else if (!failed) hl_blockmap_push_scope(map, op->scope, 0);
        break;
    case HL_OP_SCOPE_EXIT: {
        uint32_t level = hl_blockmap_scope_level(map, op->scope);
        if (!level) rc = bad(diag, trace, op, "scope %u is not open", op->scope);
        else hl_blockmap_close_from(map, level);
        break;
    }
    case HL_OP_PROMOTE: {
        uint32_t level = hl_blockmap_scope_level(map, op->scope);
        if (!level) rc = bad(diag, trace, op, "scope %u is not open", op->scope);
        else if (!live) rc = bad(diag, trace, op, "block id %llu %s", id, state_text(block));
        else if (block->level < level)
            rc = bad(diag, trace, op, "block id %llu is not in scope %u or a scope inside it", id, op->scope);
        else if (op->size > block->layout.size)
            rc = bad(diag, trace, op, "n %llu exceeds block id %llu's size %llu",
                     (unsigned long long)op->size, id, (unsigned long long)block->layout.size);
        else if (!failed) {
            hl_blockmap_move_level(map, block, level - 1);
            hl_blockmap_close_from(map, level);
            hl_blockmap_resize(map, block, (size_t)op->size);
        }
        break;
    }
    case HL_OP_FREE_ALL:
        hl_blockmap_close_from(map, 0);
        break;
    case HL_OP_DOUBLE_FREE:
        if (!block) rc = bad(diag, trace, op, "block id %llu was never allocated", id);
        else if (live) rc = bad(diag, trace, op, "block id %llu is live (a double free needs a freed block)", id);
        break;
    case HL_OP_FREE_INVALID:
        if (!block) rc = bad(diag, trace, op, "block id %llu was never allocated", id);
        else if (op->offset == 0) rc = bad(diag, trace, op, "offset 0 is the block itself, not an invalid pointer");
        break;
    case HL_OP_FREE_LAYOUT:
        if (!live) rc = bad(diag, trace, op, "block id %llu %s", id, state_text(block));
        else if (op->size == block->layout.size && op->align == block->layout.align)
            rc = bad(diag, trace, op, "layout (%llu, %llu) is block id %llu's own layout",
                     (unsigned long long)op->size, (unsigned long long)op->align, id);
        break;
    case HL_OP_AFTER_FREE:
        if (!block) rc = bad(diag, trace, op, "block id %llu was never allocated", id);
        else if (block->state != HL_BLOCK_FREED) rc = bad(diag, trace, op, "block id %llu is live", id);
        else if (op->offset >= block->layout.size)
            rc = bad(diag, trace, op, "offset %llu is outside the freed block's %llu bytes",
                     (unsigned long long)op->offset, (unsigned long long)block->layout.size);
        break;
    default:
        rc = bad(diag, trace, op, "unknown operation kind %u", op->kind);
    }
    return rc;
}

/* Walks the trace; stops at the first inconsistent operation (-1, diag) unless keep
 * is given: then that operation is marked keep[i] = false, its effect is not applied,
 * and the walk goes on. */
static int walk(const hl_trace *trace, hl_diag *diag, bool *keep)
{
    hl_blockmap *map = hl_blockmap_new();
    int rc = 0;
    for (size_t i = 0; i < trace->count; i++) {
        if (check_op(map, trace, &trace->ops[i], diag) == 0) continue;
        if (!keep) {
            rc = -1;
            break;
        }
        keep[i] = false;
    }
    hl_blockmap_free(map);
    return rc;
}

int hl_trace_check(const hl_trace *trace, hl_diag *diag) { return walk(trace, diag, NULL); }

size_t hl_trace_repair(hl_trace *trace)
{
    if (!trace->count) return 0;
    bool *keep = hl_mem_alloc(trace->count * sizeof *keep);
    for (size_t i = 0; i < trace->count; i++) keep[i] = true;
    hl_diag diag;
    walk(trace, &diag, keep);
    size_t kept = 0;
    for (size_t i = 0; i < trace->count; i++)
        if (keep[i]) trace->ops[kept++] = trace->ops[i];
    size_t dropped = trace->count - kept;
    trace->count = kept;
    hl_mem_free(keep);
    return dropped;
}
