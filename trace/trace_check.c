/* trace_check.c: is a trace consistent with itself (CONTRACT.md, "Operations in
 * traces")? Walks the operations with the trace's own view of which ids are live,
 * which scope each belongs to and which scopes are open: no backend, no executor.
 * (That view means what the executor's block map means: an id allocated while scope
 * level L is innermost belongs to L; exiting a scope frees the blocks of its level and
 * every level inside it; promote moves a block one level out.) A recorded failure
 * (fail=) changes nothing in that view, except that the id is known afterwards. */
#include "hl_trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One known id (24 bytes): its last layout, its level and whether it is live. */
typedef struct known {
    uint64_t size;
    uint32_t pos;        /* live: its entry's position in its level's list */
    uint32_t level;
    uint8_t align_log2;  /* align = 1 << align_log2; CHECK_ALIGN_ODD: not a power of
                            two (the value is in the view's odd map) */
    bool live;
} known;

#define CHECK_ALIGN_ODD 0xffu

/* The ids that joined one scope level, in order, as positions in the view's blocks.
 * Entries go stale as ids leave (free, promote): entry i is current only while its id
 * is live at this level with pos i. */
typedef struct level_ids {
    uint32_t *at;
    size_t count, capacity;
    uint64_t live;  /* live ids at this level */
} level_ids;

/* The checker's view: O(ids), about 32 bytes a distinct id (the entry, a slot of the
 * id index, a place on a level list), not O(operations). */
typedef struct view {
    hl_idmap index;      /* id -> position in blocks */
    hl_u64map odd;       /* position -> an align that is not a power of two */
    known *blocks;
    uint32_t count, capacity;
    level_ids *levels; /* [0] outside every scope, [1..depth] the open scopes */
    uint32_t depth, level_capacity;
    hl_scopes scopes;  /* the open scopes' ids, by level (depth is scopes.depth) */
} view;

static void view_init(view *v)
{
    memset(v, 0, sizeof *v);
    v->level_capacity = 8;
    v->levels = hl_mem_alloc(v->level_capacity * sizeof *v->levels);
}

static void view_free(view *v)
{
    for (uint32_t l = 0; l < v->level_capacity; l++) hl_mem_free(v->levels[l].at);
    hl_mem_free(v->levels);
    hl_mem_free(v->blocks);
    hl_idmap_free(&v->index);
    hl_u64map_free(&v->odd);
    hl_scopes_free(&v->scopes);
}

static uint64_t align_of(const view *v, const known *b)
{
    if (b->align_log2 != CHECK_ALIGN_ODD) return 1ull << b->align_log2;
    uint64_t align = 0;
    hl_u64map_find(&v->odd, (uint64_t)(b - v->blocks), &align);
    return align;
}

static void set_align(view *v, known *b, uint64_t align)
{
    if (align && !(align & (align - 1))) {
        b->align_log2 = (uint8_t)__builtin_ctzll(align);
        return;
    }
    b->align_log2 = CHECK_ALIGN_ODD;
    *hl_u64map_put(&v->odd, (uint64_t)(b - v->blocks), NULL) = align;
}

/* The entry of id, or NULL if the id was never seen. */
static known *find(view *v, uint64_t id)
{
    uint32_t at;
    return hl_idmap_find(&v->index, id, &at) ? &v->blocks[at] : NULL;
}

/* The entry of id, made (not live) if new. Valid until the next call. */
static known *get(view *v, uint64_t id)
{
    known *b = find(v, id);
    if (b) return b;
    if (v->count == v->capacity) {
        if (v->capacity >= UINT32_MAX / 2) {
            fprintf(stderr, "heaplab: more than 2^31 distinct block ids\n");
            _Exit(2);
        }
        v->capacity = v->capacity ? v->capacity * 2 : 64;
        v->blocks = hl_mem_realloc(v->blocks, v->capacity * sizeof *v->blocks);
    }
    hl_idmap_set(&v->index, id, v->count);
    v->blocks[v->count] = (known){0};
    return &v->blocks[v->count++];
}

/* Drops the entries of level l that are no longer current, once they outnumber the
 * current ones (keeps a long trace's level 0 list in proportion to its live ids). */
static void compact(view *v, uint32_t l)
{
    level_ids *ids = &v->levels[l];
    if (ids->count < 64 || ids->count < 2 * ids->live) return;
    size_t kept = 0;
    for (size_t i = 0; i < ids->count; i++) {
        known *b = &v->blocks[ids->at[i]];
        if (!b->live || b->level != l || b->pos != i) continue;
        b->pos = (uint32_t)kept;
        ids->at[kept++] = ids->at[i];
    }
    ids->count = kept;
}

/* Puts b (live, not on any list yet) on level l's list. */
static void join_level(view *v, known *b, uint32_t l)
{
    level_ids *ids = &v->levels[l];
    if (ids->count == ids->capacity) {
        compact(v, l);
        if (ids->count == ids->capacity) {
            ids->capacity = ids->capacity ? ids->capacity * 2 : 16;
            ids->at = hl_mem_realloc(ids->at, ids->capacity * sizeof *ids->at);
        }
    }
    b->level = l;
    b->pos = (uint32_t)ids->count;
    ids->at[ids->count++] = (uint32_t)(b - v->blocks);
    ids->live++;
}

static void make_live(view *v, known *b)
{
    b->live = false; /* not current anywhere while the list may be compacted */
    join_level(v, b, v->depth);
    b->live = true;
}

static void make_freed(view *v, known *b)
{
    b->live = false;
    v->levels[b->level].live--;
}

/* Closes levels >= level: their live ids are freed. Level 0 is never closed, only
 * emptied (free_all). */
static void close_from(view *v, uint32_t level)
{
    for (uint32_t l = v->depth + 1; l-- > level;) {
        level_ids *ids = &v->levels[l];
        for (size_t i = 0; i < ids->count; i++) {
            known *b = &v->blocks[ids->at[i]];
            if (b->live && b->level == l && b->pos == i) make_freed(v, b);
        }
        ids->count = 0;
        ids->live = 0;
    }
    v->depth = level ? level - 1 : 0;
    hl_scopes_close_from(&v->scopes, level);
}

static void push_scope(view *v, uint32_t scope)
{
    if (v->depth + 1 == v->level_capacity) {
        v->levels = hl_mem_realloc(v->levels, 2 * v->level_capacity * sizeof *v->levels);
        v->level_capacity *= 2;
    }
    v->depth++;
    v->levels[v->depth].count = 0;
    v->levels[v->depth].live = 0;
    hl_scopes_push(&v->scopes, scope);
}

/* The level of the open scope with that trace id, or 0 if it is not open. */
static uint32_t scope_level(const view *v, uint32_t scope)
{
    return hl_scopes_level(&v->scopes, scope);
}

static bool may_fail(hl_op_kind kind)
{
    return kind == HL_OP_ALLOC || kind == HL_OP_REALLOC || kind == HL_OP_SCOPE_ENTER ||
           kind == HL_OP_PROMOTE;
}

static const char *state_text(const known *block)
{
    return !block ? "was never allocated" : "is not live";
}

/* Checks one operation against the map and applies its effect when it is valid (each
 * case applies an effect only in its valid branch). Returns 0, or -1 with diag. */
static int check_op(view *map, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    int rc = 0;
    hl_op_kind kind = (hl_op_kind)op->kind;
    bool failed = op->expect_fail != HL_E_OK;
    if (failed && !may_fail(kind))
        return bad(diag, trace, op, "fail= is only allowed on alloc, realloc, scope_enter and promote");
    known *block = NULL;
    if (kind != HL_OP_ALLOC && kind != HL_OP_SCOPE_ENTER && kind != HL_OP_SCOPE_EXIT &&
        kind != HL_OP_FREE_ALL)
        block = find(map, op->id);
    bool live = block && block->live;
    unsigned long long id = (unsigned long long)op->id;
    switch (kind) {
    case HL_OP_ALLOC:
        block = get(map, op->id);
        if (block->live) {
            rc = bad(diag, trace, op, "block id %llu is already live", id);
            break;
        }
        block->size = op->size;
        set_align(map, block, op->align);
        if (!failed) make_live(map, block);
        break;
    case HL_OP_FREE:
    case HL_OP_USABLE:
    case HL_OP_OVERFLOW:
    case HL_OP_UNDERFLOW:
        if (!live) rc = bad(diag, trace, op, "block id %llu %s", id, state_text(block));
        else if (kind == HL_OP_FREE) make_freed(map, block);
        break;
    case HL_OP_REALLOC:
        if (!live) rc = bad(diag, trace, op, "block id %llu %s", id, state_text(block));
        else if (!failed) block->size = op->size;
        break;
    case HL_OP_TOUCH:
        if (!live) rc = bad(diag, trace, op, "block id %llu %s", id, state_text(block));
        else if (op->offset > block->size || op->size > block->size - op->offset)
            rc = bad(diag, trace, op,
                     "range [%llu, +%llu) lies outside block id %llu of size %llu (use overflow for out-of-bounds access)",
                     (unsigned long long)op->offset, (unsigned long long)op->size, id,
                     (unsigned long long)block->size);
        break;
    case HL_OP_SCOPE_ENTER:
        if (scope_level(map, op->scope))
            rc = bad(diag, trace, op, "scope %u is already open", op->scope);
        else if (!failed) push_scope(map, op->scope);
        break;
    case HL_OP_SCOPE_EXIT: {
        uint32_t level = scope_level(map, op->scope);
        if (!level) rc = bad(diag, trace, op, "scope %u is not open", op->scope);
        else close_from(map, level);
        break;
    }
    case HL_OP_PROMOTE: {
        uint32_t level = scope_level(map, op->scope);
        if (!level) rc = bad(diag, trace, op, "scope %u is not open", op->scope);
        else if (!live) rc = bad(diag, trace, op, "block id %llu %s", id, state_text(block));
        else if (block->level < level)
            rc = bad(diag, trace, op, "block id %llu is not in scope %u or a scope inside it", id, op->scope);
        else if (op->size > block->size)
            rc = bad(diag, trace, op, "n %llu exceeds block id %llu's size %llu",
                     (unsigned long long)op->size, id, (unsigned long long)block->size);
        else if (!failed) {
            make_freed(map, block); /* off its level: that entry is no longer current */
            join_level(map, block, level - 1);
            block->live = true;
            close_from(map, level);
            block->size = op->size;
        }
        break;
    }
    case HL_OP_FREE_ALL:
        close_from(map, 0);
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
        else if (op->size == block->size && op->align == align_of(map, block))
            rc = bad(diag, trace, op, "layout (%llu, %llu) is block id %llu's own layout",
                     (unsigned long long)op->size, (unsigned long long)op->align, id);
        break;
    case HL_OP_AFTER_FREE:
        if (!block) rc = bad(diag, trace, op, "block id %llu was never allocated", id);
        else if (block->live) rc = bad(diag, trace, op, "block id %llu is live", id);
        else if (op->offset >= block->size)
            rc = bad(diag, trace, op, "offset %llu is outside the freed block's %llu bytes",
                     (unsigned long long)op->offset, (unsigned long long)block->size);
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
    view map;
    view_init(&map);
    int rc = 0;
    for (size_t i = 0; i < trace->count; i++) {
        if (check_op(&map, trace, &trace->ops[i], diag) == 0) continue;
        if (!keep) {
            rc = -1;
            break;
        }
        keep[i] = false;
    }
    view_free(&map);
    return rc;
}

int hl_trace_check(const hl_trace *trace, hl_diag *diag) { return walk(trace, diag, NULL); }

struct hl_trace_checker {
    view map;
};

hl_trace_checker *hl_trace_checker_new(void)
{
    hl_trace_checker *checker = hl_mem_alloc(sizeof *checker);
    view_init(&checker->map);
    return checker;
}

static int take(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    return check_op(&((hl_trace_checker *)context)->map, trace, op, diag);
}

hl_op_sink hl_trace_checker_sink(hl_trace_checker *checker) { return (hl_op_sink){take, checker}; }

void hl_trace_checker_free(hl_trace_checker *checker)
{
    if (!checker) return;
    view_free(&checker->map);
    hl_mem_free(checker);
}

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
