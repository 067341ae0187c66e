/* shadow.c: the shadow model, the first observer. An independent, simple check of
 * every operation against the contract (CONTRACT.md, "What the shadow model checks
 * on every operation"). It reads the backend only through mem_view, usable_size,
 * stats and check, and stops the stream at the first divergence.
 *
 * Its own view: the shadow never reads the executor's block map. It keeps, for every
 * id the trace holds live, a record of its own (address, size, alignment, caps, scope
 * level, and whether the backend serves it or failed to: RETIRED), its own stack of
 * open scopes, its own live counters and its own address index (an occupancy bitmap
 * of run/occupancy.c: shared code, separate state), and updates them only from what
 * it observes: the operation, and the executor's result record (the address the
 * backend returned, its error, whether the operation was sent). A freed id is
 * forgotten. So a bug in the executor's map (a block dropped from its index, a free
 * it skips, a wrong count) is a divergence here, not a blind spot: an overlap its
 * index no longer sees, or stats that no longer agree with this model.
 *
 * The records sit in one pool (32 bytes each, freed slots reused) found through an
 * open-addressing table of 4-byte slots (a pool index and a tag of the id's hash, at
 * most 80% full: a probe reads only the table until the tag matches); blocks inside scopes are also listed
 * by id per scope level (level 0, where almost every block lives, keeps no list: a
 * walk of it scans the pool). Differential runs tell the shadow of an id retired in
 * every lane (hl_shadow_retire), the one change the executor makes outside an
 * operation.
 *
 * Contents: the executor writes each block's pattern; the shadow verifies a block's
 * bytes whenever the block is about to be freed, reallocated, promoted, exited or
 * read by a touch, the prefix after a move, and every live block at the end. */
#include "hl_check.h"
#include "occupancy.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SH_UNUSED = 0, SH_LIVE, SH_RETIRED };

/* One id the trace holds live. */
typedef struct sh_block {
    uint64_t id;
    hl_addr addr;      /* LIVE: where the backend holds it */
    uint64_t size;
    uint32_t level;    /* scope level (0: outside every scope) */
    uint8_t align_log2;
    uint8_t caps;      /* HL_CAP_EXEC | HL_CAP_DMA (other bits never stay live) */
    uint8_t state;     /* SH_LIVE, SH_RETIRED (the backend failed to serve it or it was
                          retired by a differential run); SH_UNUSED: a free pool slot */
    uint8_t flags;     /* SH_INDEXED, SH_MARK */
} sh_block;

#define SH_INDEXED 1u
#define SH_MARK 2u

typedef struct sh_level {
    uint32_t count; /* records at this level */
    uint64_t *ids;  /* ids that joined it (some may have left since) */
    uint32_t len, cap;
} sh_level;

struct hl_shadow {
    uint64_t check_every;
    uint64_t since_check;
    uint64_t check_ended;  /* HL_CHECK_PACED: clock ticks when the last check ended */
    uint64_t check_took;   /* and how long it took */
    bool found;
    bool concurrent; /* other operations in flight: no whole-backend checks */
    bool ready;      /* the address index has its granule */
    bool untouched;  /* no patterns written, no contents verified */
    hl_finding finding;
    const hl_op *op; /* the operation in flight */
    uint64_t index;
    uint64_t detections;
    hl_detection kept[HL_DETECTIONS_KEPT];
    /* the view */
    sh_block *pool;          /* [0] unused */
    uint32_t pool_count, pool_capacity, pool_free; /* pool_free: a free slot list through addr */
    uint32_t *table;         /* pool indexes by id hash (0: empty) */
    uint32_t table_mask, table_count, table_dead; /* dead: slots of dropped ids (tombstones) */
    sh_level *levels;        /* [0]: outside every scope (keeps no list) */
    uint32_t depth, level_capacity;
    hl_scopes scopes;        /* the open scopes' trace ids, by level */
    occupancy occ;
    uint64_t live_blocks, live_bytes;
};

uint64_t hl_shadow_detections(const hl_shadow *shadow, const hl_detection **kept)
{
    if (kept) *kept = shadow->kept;
    return shadow->detections;
}

static void detected(hl_shadow *shadow, const hl_result *r, hl_error kind)
{
    if (shadow->detections < HL_DETECTIONS_KEPT)
        shadow->kept[shadow->detections] = (hl_detection){r->index, r->op->line, kind, r->op->id, r->offset, r->op->kind};
    shadow->detections++;
}

hl_shadow *hl_shadow_new(uint64_t check_every)
{
    hl_shadow *shadow = hl_mem_alloc(sizeof *shadow);
    shadow->check_every = check_every;
    shadow->untouched = check_every == HL_CHECK_UNTOUCHED;
    shadow->pool_capacity = 256;
    shadow->pool = hl_mem_alloc(shadow->pool_capacity * sizeof *shadow->pool);
    shadow->pool_count = 1;
    shadow->table_mask = 512 - 1;
    shadow->table = hl_mem_alloc((size_t)(shadow->table_mask + 1) * sizeof *shadow->table);
    shadow->level_capacity = 8;
    shadow->levels = hl_mem_alloc(shadow->level_capacity * sizeof *shadow->levels);
    occ_init(&shadow->occ, 0);
    return shadow;
}

void hl_shadow_reset(hl_shadow *shadow)
{
    hl_shadow kept = *shadow; /* the tables and the settings; everything else starts over */
    memset(shadow, 0, sizeof *shadow);
    shadow->check_every = kept.check_every;
    shadow->untouched = kept.untouched;
    shadow->ready = kept.ready; /* the same backend: the same granule */
    shadow->pool = kept.pool;
    shadow->pool_capacity = kept.pool_capacity;
    shadow->pool_count = 1;
    shadow->table = kept.table;
    shadow->table_mask = kept.table_mask;
    memset(shadow->table, 0, (size_t)(kept.table_mask + 1) * sizeof *shadow->table);
    shadow->levels = kept.levels;
    shadow->level_capacity = kept.level_capacity;
    for (uint32_t l = 0; l < kept.level_capacity; l++) shadow->levels[l].count = shadow->levels[l].len = 0;
    shadow->scopes = kept.scopes;
    hl_scopes_close_from(&shadow->scopes, 0);
    shadow->occ = kept.occ;
    occ_clear(&shadow->occ);
}

void hl_shadow_free(hl_shadow *shadow)
{
    if (!shadow) return;
    hl_mem_free(shadow->pool);
    hl_mem_free(shadow->table);
    for (uint32_t l = 0; l < shadow->level_capacity; l++) hl_mem_free(shadow->levels[l].ids);
    hl_mem_free(shadow->levels);
    hl_scopes_free(&shadow->scopes);
    occ_free(&shadow->occ);
    hl_mem_free(shadow);
}

void hl_shadow_concurrent(hl_shadow *shadow, bool on) { shadow->concurrent = on; }

void hl_shadow_untouched(hl_shadow *shadow) { shadow->untouched = true; }

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

/* ---------------------------------------------------------------- the view: ids */

/* A table slot holds a pool index in its low bits (below table_mask: the pool never
 * holds as many records as the table has slots) and, above them, a tag from the id's
 * hash, so a probe past other ids reads only the table, not their records. A dropped
 * id leaves a tombstone (DEAD: index table_mask, no tag), which a later id may take:
 * deleting by shifting the run back read the record of every id after it. */
#define DEAD(shadow) ((shadow)->table_mask)
static uint64_t hash_of(uint64_t id) { return id * 0x9e3779b97f4a7c15ull; }
static uint32_t home_of(const hl_shadow *shadow, uint64_t h) { return (uint32_t)(h >> 32) & shadow->table_mask; }
static uint32_t tag_of(const hl_shadow *shadow, uint64_t h) { return (uint32_t)h & ~shadow->table_mask; }

/* The table slot of id, or the empty slot that ends its probe. */
static uint32_t slot_of(const hl_shadow *shadow, uint64_t id)
{
    uint64_t h = hash_of(id);
    uint32_t i = home_of(shadow, h), tag = tag_of(shadow, h), mask = shadow->table_mask;
    for (uint32_t v; (v = shadow->table[i]) != 0; i = (i + 1) & mask)
        if ((v & ~mask) == tag && v != DEAD(shadow) && shadow->pool[v & mask].id == id) break;
    return i;
}

static sh_block *find(const hl_shadow *shadow, uint64_t id)
{
    uint32_t v = shadow->table[slot_of(shadow, id)];
    return v ? &shadow->pool[v & shadow->table_mask] : NULL;
}

/* Puts pool index `index` (holding an id not in the table) on the first free or dead
 * slot of its probe. */
static void place(hl_shadow *shadow, uint32_t index)
{
    uint64_t h = hash_of(shadow->pool[index].id);
    uint32_t i = home_of(shadow, h), mask = shadow->table_mask;
    while (shadow->table[i] && shadow->table[i] != DEAD(shadow)) i = (i + 1) & mask;
    if (shadow->table[i]) shadow->table_dead--;
    shadow->table[i] = index | tag_of(shadow, h);
    shadow->table_count++;
}

/* Rebuilds the table without its tombstones, twice as large if it is over 40% full
 * (so at least 40% of its slots are taken before the next rebuild). */
static void rebuild_table(hl_shadow *shadow)
{
    hl_mem_free(shadow->table);
    if ((uint64_t)shadow->table_count * 5 > (uint64_t)(shadow->table_mask + 1) * 2 || shadow->pool_count >= shadow->table_mask)
        shadow->table_mask = shadow->table_mask * 2 + 1;
    shadow->table = hl_mem_alloc((size_t)(shadow->table_mask + 1) * sizeof *shadow->table);
    shadow->table_count = shadow->table_dead = 0;
    for (uint32_t i = 1; i < shadow->pool_count; i++)
        if (shadow->pool[i].state != SH_UNUSED) place(shadow, i);
}

static void level_push(hl_shadow *shadow, uint32_t level, uint64_t id);

/* A new record for id (not in the view) at the innermost level. Pointers into the
 * pool stay valid until the next call. */
static sh_block *add(hl_shadow *shadow, uint64_t id, uint8_t state)
{
    if ((uint64_t)(shadow->table_count + shadow->table_dead + 1) * 5 > (uint64_t)(shadow->table_mask + 1) * 4 ||
        shadow->pool_count >= shadow->table_mask)
        rebuild_table(shadow);
    uint32_t index = shadow->pool_free;
    if (index) {
        shadow->pool_free = (uint32_t)shadow->pool[index].addr;
    } else {
        if (shadow->pool_count == shadow->pool_capacity) {
            if (shadow->pool_capacity > UINT32_MAX / 4) {
                fprintf(stderr, "heaplab: more than 2^31 live block ids\n");
                _Exit(2);
            }
            shadow->pool_capacity += shadow->pool_capacity / 4; /* large: mremap, cheap */
            shadow->pool = hl_mem_realloc(shadow->pool, shadow->pool_capacity * sizeof *shadow->pool);
        }
        index = shadow->pool_count++;
    }
    sh_block *b = &shadow->pool[index];
    memset(b, 0, sizeof *b);
    b->id = id;
    place(shadow, index);
    b->state = state;
    b->level = shadow->depth;
    if (b->level) {
        shadow->levels[b->level].count++;
        level_push(shadow, b->level, id);
    }
    return b;
}

/* ---------------------------------------------------------------- the view: addresses */

/* [addr, end) of a block; end 0 when it reaches the top of the address space. */
static hl_addr extent_end(hl_addr addr, uint64_t size)
{
    hl_addr end = addr + (size ? size : 1);
    return end < addr ? 0 : end;
}

/* The id of an indexed block whose extent meets [addr, end), or 0 (a scan: only
 * after the index said there is one, which is a divergence). */
static uint64_t overlapping_id(const hl_shadow *shadow, hl_addr addr, hl_addr end)
{
    for (uint32_t i = 1; i < shadow->pool_count; i++) {
        const sh_block *o = &shadow->pool[i];
        hl_addr o_end = extent_end(o->addr, o->size);
        if ((o->flags & SH_INDEXED) && (o_end == 0 || o_end > addr) && (end == 0 || o->addr < end)) return o->id;
    }
    return 0;
}

/* Puts a LIVE record on the address index, unless it would overlap an indexed block
 * (then the stream has stopped on OVERLAP already). */
static void index_block(hl_shadow *shadow, sh_block *b)
{
    hl_addr end = extent_end(b->addr, b->size);
    if (occ_any(&shadow->occ, b->addr, end)) return;
    occ_mark(&shadow->occ, b->addr, end, true);
    b->flags |= SH_INDEXED;
}

static void unindex(hl_shadow *shadow, sh_block *b)
{
    if (!(b->flags & SH_INDEXED)) return;
    occ_mark(&shadow->occ, b->addr, extent_end(b->addr, b->size), false);
    b->flags &= (uint8_t)~SH_INDEXED;
}

static void make_live(hl_shadow *shadow, sh_block *b, hl_addr addr, uint64_t size)
{
    b->addr = addr;
    b->size = size;
    b->state = SH_LIVE;
    shadow->live_blocks++;
    shadow->live_bytes += size;
}

/* Takes a record out of the view: the id is no longer live in the trace. */
static void drop(hl_shadow *shadow, sh_block *b)
{
    if (b->state == SH_UNUSED) return;
    unindex(shadow, b);
    if (b->state == SH_LIVE) {
        shadow->live_blocks--;
        shadow->live_bytes -= b->size;
    }
    if (b->level) shadow->levels[b->level].count--;
    shadow->table[slot_of(shadow, b->id)] = DEAD(shadow);
    shadow->table_count--;
    shadow->table_dead++;
    uint32_t index = (uint32_t)(b - shadow->pool);
    b->state = SH_UNUSED;
    b->flags = 0;
    b->addr = shadow->pool_free;
    shadow->pool_free = index;
}

/* ---------------------------------------------------------------- the view: scopes */

/* Lists id at level (> 0). A level's list keeps ids that have left it; when it fills
 * up with them it is compacted to the ids still there, each once. */
static void level_push(hl_shadow *shadow, uint32_t level, uint64_t id)
{
    sh_level *l = &shadow->levels[level];
    if (l->len == l->cap && l->len > 2 * (uint64_t)l->count + 16) {
        uint32_t kept = 0;
        for (uint32_t i = 0; i < l->len; i++) {
            sh_block *b = find(shadow, l->ids[i]);
            if (!b || b->level != level || (b->flags & SH_MARK)) continue;
            b->flags |= SH_MARK;
            l->ids[kept++] = l->ids[i];
        }
        for (uint32_t i = 0; i < kept; i++) find(shadow, l->ids[i])->flags &= (uint8_t)~SH_MARK;
        l->len = kept;
    }
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->ids = hl_mem_realloc(l->ids, l->cap * sizeof *l->ids);
    }
    l->ids[l->len++] = id;
}

static void move_level(hl_shadow *shadow, sh_block *b, uint32_t level)
{
    if (b->level) shadow->levels[b->level].count--;
    b->level = level;
    if (level) {
        shadow->levels[level].count++;
        level_push(shadow, level, b->id);
    }
}

static void push_scope(hl_shadow *shadow, uint32_t scope_id)
{
    if (shadow->depth + 1 >= shadow->level_capacity) {
        uint32_t old = shadow->level_capacity;
        shadow->level_capacity *= 2;
        shadow->levels = hl_mem_realloc(shadow->levels, shadow->level_capacity * sizeof *shadow->levels);
        memset(shadow->levels + old, 0, (shadow->level_capacity - old) * sizeof *shadow->levels);
    }
    sh_level *l = &shadow->levels[++shadow->depth];
    hl_scopes_push(&shadow->scopes, scope_id);
    l->count = 0;
    l->len = 0;
}

/* The level of the open scope with that trace id, or 0 if it is not open. */
static uint32_t scope_level(const hl_shadow *shadow, uint32_t scope_id)
{
    return hl_scopes_level(&shadow->scopes, scope_id);
}

/* Calls visit for every record at levels >= level; stops when it returns non-zero. */
static int visit_from(hl_shadow *shadow, uint32_t level, int (*visit)(hl_shadow *, sh_block *, void *), void *context)
{
    if (level == 0) {
        for (uint32_t i = 1; i < shadow->pool_count; i++)
            if (shadow->pool[i].state != SH_UNUSED && visit(shadow, &shadow->pool[i], context)) return 1;
        return 0;
    }
    for (uint32_t l = level; l <= shadow->depth; l++)
        for (uint32_t i = 0; i < shadow->levels[l].len; i++) {
            sh_block *b = find(shadow, shadow->levels[l].ids[i]);
            if (b && b->level == l && visit(shadow, b, context)) return 1;
        }
    return 0;
}

static int visit_drop(hl_shadow *shadow, sh_block *b, void *context)
{
    (void)context;
    drop(shadow, b);
    return 0;
}

/* Closes levels >= level: their records leave the view. */
static void close_from(hl_shadow *shadow, uint32_t level)
{
    visit_from(shadow, level, visit_drop, NULL);
    for (uint32_t l = level ? level : 1; l <= shadow->depth; l++) shadow->levels[l].len = shadow->levels[l].count = 0;
    shadow->depth = level ? level - 1 : 0;
    hl_scopes_close_from(&shadow->scopes, level);
}

size_t hl_shadow_bytes(const hl_shadow *shadow)
{
    size_t bytes = sizeof *shadow + shadow->pool_capacity * sizeof *shadow->pool +
                   (size_t)(shadow->table_mask + 1) * sizeof *shadow->table +
                   shadow->level_capacity * sizeof *shadow->levels + occ_bytes(&shadow->occ);
    for (uint32_t l = 0; l < shadow->level_capacity; l++) bytes += shadow->levels[l].cap * sizeof(uint64_t);
    return bytes;
}

uint64_t hl_shadow_live_blocks(const hl_shadow *shadow) { return shadow->live_blocks; }

void hl_shadow_retire(hl_shadow *shadow, uint64_t id, hl_error freed)
{
    sh_block *b = find(shadow, id);
    if (!b || b->state != SH_LIVE || freed != HL_E_OK) return;
    unindex(shadow, b);
    shadow->live_blocks--;
    shadow->live_bytes -= b->size;
    b->state = SH_RETIRED; /* stays in its scope */
}

/* The address index's granule: the backend's minimum alignment (up to 16), as the
 * executor's (exact for blocks that start on it). */
static void setup(hl_shadow *shadow, hl_exec *exec)
{
    shadow->ready = true;
    /* a backend whose memory is in another process has no bytes to show: it checks
     * contents itself (REMOTE_MEMORY); the model checks everything else */
    if (hl_exec_info(exec)->features & HL_FEATURE_REMOTE_MEMORY) shadow->untouched = true;
    if (shadow->untouched) hl_exec_write_patterns(exec, false);
    size_t align = hl_exec_info(exec)->min_align;
    unsigned log = 0;
    while (log < 4 && ((size_t)2 << log) <= align) log++;
    occ_free(&shadow->occ);
    occ_init(&shadow->occ, log);
}

/* ---------------------------------------------------------------- contents */

typedef struct verify_job {
    const unsigned char *view;
    uint64_t id;
    size_t from, to, bad;
    hl_pattern_shape shape;
    bool same;
} verify_job;

static void verify(void *context)
{
    verify_job *job = context;
    job->same = hl_pattern_verify(job->shape, job->view + job->from, job->id, job->from, job->to, &job->bad);
}

/* Verifies bytes [from, to) of block (at addr) hold its pattern. */
static int verify_range(hl_shadow *shadow, hl_exec *exec, uint64_t id, hl_addr addr, size_t from,
                        size_t to, hl_rule rule, const char *when)
{
    if (from >= to || shadow->untouched) return 0; /* no pattern was written */
    const unsigned char *view = hl_exec_view(exec, addr, to);
    if (!view)
        return diverge(shadow, HL_RULE_OUTSIDE_FOOTPRINT,
                       "block id %" PRIu64 " at 0x%" PRIxPTR " (+%zu bytes) is outside the backend's memory %s",
                       id, addr, to, when);
    verify_job job = {view, id, from, to, 0, hl_exec_pattern_shape(exec), true};
    uintptr_t at = 0;
    if (!hl_exec_access(exec, verify, &job, &at))
        return diverge(shadow, HL_RULE_ACCESS_FAULT, "block id %" PRIu64 " at 0x%" PRIxPTR ": reading byte %zu faulted %s",
                       id, addr, (size_t)(at - (uintptr_t)view), when);
    if (!job.same)
        return diverge(shadow, rule, "block id %" PRIu64 " at 0x%" PRIxPTR ": byte %zu of %zu changed %s", id,
                       addr, job.bad, to, when);
    return 0;
}

static int verify_block(hl_shadow *shadow, hl_exec *exec, const sh_block *b, const char *when)
{
    if (b->state != SH_LIVE) return 0;
    return verify_range(shadow, exec, b->id, b->addr, 0, (size_t)b->size, HL_RULE_CONTENTS, when);
}

typedef struct verify_all {
    hl_exec *exec;
    const char *when;
} verify_all;

static int visit_verify(hl_shadow *shadow, sh_block *b, void *context)
{
    verify_all *v = context;
    return verify_block(shadow, v->exec, b, v->when);
}

static int verify_from_level(hl_shadow *shadow, hl_exec *exec, uint32_t level, const char *when)
{
    verify_all v = {exec, when};
    return visit_from(shadow, level, visit_verify, &v);
}

static int run_check(hl_shadow *shadow, hl_exec *exec)
{
    char message[400] = "";
    hl_error e = hl_exec_backend(exec)->check(hl_exec_heap(exec), message, sizeof message);
    if (e != HL_E_OK)
        return diverge(shadow, HL_RULE_CHECK_FAILED, "check: %s: %s", hl_error_name(e), message);
    return 0;
}

static int before(void *context, hl_exec *exec, const hl_op *op, uint64_t index)
{
    hl_shadow *shadow = context;
    if (!shadow->ready) setup(shadow, exec);
    shadow->op = op;
    shadow->index = index;
    switch ((hl_op_kind)op->kind) {
    case HL_OP_FREE:
    case HL_OP_REALLOC: {
        sh_block *b = find(shadow, op->id);
        if (!b || b->state != SH_LIVE) return 0;
        if (verify_block(shadow, exec, b, "before it was freed or reallocated")) return 1;
        /* off the index before the call: another thread may be handed the address */
        unindex(shadow, b);
        return 0;
    }
    case HL_OP_TOUCH: {
        sh_block *b = find(shadow, op->id);
        if (!b || b->state != SH_LIVE || op->write) return 0;
        if (op->offset + op->size > b->size) return 0;
        return verify_range(shadow, exec, b->id, b->addr, (size_t)op->offset,
                            (size_t)(op->offset + op->size), HL_RULE_CONTENTS, "(read by a touch)");
    }
    case HL_OP_SCOPE_EXIT:
    case HL_OP_PROMOTE: {
        uint32_t level = scope_level(shadow, op->scope);
        if (level && verify_from_level(shadow, exec, level, "before its scope closed")) return 1;
        sh_block *b = op->kind == HL_OP_PROMOTE ? find(shadow, op->id) : NULL;
        if (b) unindex(shadow, b); /* the promoted block may land on its own old bytes */
        return 0;
    }
    case HL_OP_FREE_ALL:
        /* free_all erases what a broken heap would show: the heap check runs before it
         * too (unless the checks are paced by the clock), as at the end of a stream */
        if (shadow->check_every != HL_CHECK_PACED && run_check(shadow, exec)) return 1;
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
 * bytes [addr, end) (other blocks start on the minimum alignment, so the rest of its
 * last granule is its own). */
static bool span_shared(hl_shadow *shadow, hl_exec *exec, hl_addr addr, hl_addr end, size_t unit)
{
    size_t align = hl_exec_info(exec)->min_align ? hl_exec_info(exec)->min_align : 1;
    hl_addr lo = addr & ~(hl_addr)(unit - 1), hi = (end + unit - 1) & ~(hl_addr)(unit - 1);
    hl_addr after = (end + align - 1) & ~(hl_addr)(align - 1);
    return (lo < addr && occ_any(&shadow->occ, lo, addr)) || (after < hi && occ_any(&shadow->occ, after, hi));
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
        if ((caps & HL_CAP_EXEC) && info->page_size && span_shared(shadow, exec, r->addr, r->addr + len, info->page_size))
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
        if ((caps & HL_CAP_DMA) && span_shared(shadow, exec, r->addr, r->addr + len, line))
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
    uint64_t other = 0;
    hl_addr end = extent_end(r->addr, size);
    if (occ_any(&shadow->occ, r->addr, end)) {
        other = overlapping_id(shadow, r->addr, end);
        shadow->finding.has_other = true;
        shadow->finding.other_id = other;
        return diverge(shadow, HL_RULE_OVERLAP,
                       "block id %" PRIu64 " at 0x%" PRIxPTR " (%zu bytes) overlaps live block id %" PRIu64, id,
                       r->addr, size, other);
    }
    if (info->backend_class == HL_CLASS_REFERENCE && !(info->features & HL_FEATURE_REMOTE_MEMORY) &&
        !hl_exec_view(exec, r->addr, size))
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

/* The size a realloc or promote that succeeded leaves the block (a promote keeps at
 * most the block's size: a recorded failed realloc may have shrunk it here). */
static uint64_t moved_size(const hl_op *op, const sh_block *b)
{
    if (op->kind == HL_OP_REALLOC) return op->size;
    return op->size > b->size ? b->size : op->size;
}

/* realloc or promote of a block the view holds live (b, as it was before) */
static int check_moved(hl_shadow *shadow, hl_exec *exec, const hl_result *r, const sh_block *b, const char *what,
                       hl_rule prefix_rule)
{
    if (r->error != HL_E_OK) {
        bool legal = r->op->kind == HL_OP_PROMOTE ? r->error == HL_E_OUT_OF_MEMORY : legal_alloc_error(r->error);
        if (!legal && r->op->expect_fail == HL_E_OK)
            return diverge(shadow, HL_RULE_WRONG_ERROR, "%s failed with %s", what, hl_error_name(r->error));
        /* failure changes nothing: the old block is live with its bytes */
        return verify_range(shadow, exec, b->id, b->addr, 0, (size_t)b->size, HL_RULE_FAILURE_CHANGED,
                            "after a failed operation");
    }
    size_t size = (size_t)moved_size(r->op, b);
    if (check_block(shadow, exec, r, size, (size_t)1 << b->align_log2, b->caps)) return 1;
    size_t keep = b->size < size ? (size_t)b->size : size;
    return verify_range(shadow, exec, b->id, r->addr, 0, keep, prefix_rule, "(the kept prefix)");
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

/* Judges a result against the view as it was before the operation. */
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
    case HL_OP_PROMOTE: {
        const sh_block *b = find(shadow, op->id);
        if (!b || b->state != SH_LIVE) return 0; /* sent for an id the model does not hold: stats will tell */
        return op->kind == HL_OP_REALLOC ? check_moved(shadow, exec, r, b, "realloc", HL_RULE_REALLOC_PREFIX)
                                         : check_moved(shadow, exec, r, b, "promote", HL_RULE_PROMOTE_PREFIX);
    }
    case HL_OP_USABLE: {
        const sh_block *b = find(shadow, op->id);
        if (b && b->state == SH_LIVE && r->usable < b->size)
            return diverge(shadow, HL_RULE_USABLE_SIZE, "usable_size of block id %" PRIu64 " is %zu < size %zu",
                           op->id, r->usable, (size_t)b->size);
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
    uint64_t live = shadow->live_blocks, bytes = shadow->live_bytes;
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


/* ---------------------------------------------------------------- the view follows */

static uint8_t log2_of(uint64_t align)
{
    return hl_is_power_of_two((size_t)align) ? (uint8_t)__builtin_ctzll(align) : 0;
}

/* Applies what the operation did, by the trace's semantics and the backend's answer
 * (CONTRACT.md; the executor follows the same), to the view. */
static void follow(hl_shadow *shadow, const hl_result *r)
{
    const hl_op *op = r->op;
    bool ok = !r->skipped && r->error == HL_E_OK;
    switch ((hl_op_kind)op->kind) {
    case HL_OP_ALLOC: {
        sh_block *b = find(shadow, op->id);
        if (b) drop(shadow, b); /* not live in the trace (the checker saw to it): a stale record */
        if (ok && r->addr) {
            b = add(shadow, op->id, SH_LIVE);
            make_live(shadow, b, r->addr, op->size);
            b->align_log2 = log2_of(op->align);
            b->caps = (uint8_t)op->caps;
            index_block(shadow, b);
        } else if (op->expect_fail == HL_E_OK) {
            add(shadow, op->id, SH_RETIRED)->size = op->size; /* the trace holds it; this backend does not */
        }
        return;
    }
    case HL_OP_FREE: {
        sh_block *b = find(shadow, op->id);
        if (!b) return;
        if (b->state == SH_LIVE && !r->skipped && r->error != HL_E_OK) index_block(shadow, b); /* still live */
        else drop(shadow, b);
        return;
    }
    case HL_OP_REALLOC: {
        sh_block *b = find(shadow, op->id);
        if (!b || b->state != SH_LIVE) return;
        if (ok) {
            shadow->live_bytes = shadow->live_bytes - b->size + op->size;
            b->addr = r->addr;
            b->size = op->size;
        }
        index_block(shadow, b);
        return;
    }
    case HL_OP_PROMOTE: {
        sh_block *b = find(shadow, op->id);
        if (!b) return;
        if (b->state == SH_LIVE) {
            if (ok) { /* in the parent now, its scope closed (promote_closes) */
                uint64_t size = moved_size(op, b);
                shadow->live_bytes = shadow->live_bytes - b->size + size;
                b->addr = r->addr;
                b->size = size;
            }
            index_block(shadow, b);
            return;
        }
        /* not served here: ran as scope_exit, unless recorded as failed */
        uint32_t level = scope_level(shadow, op->scope);
        if (level && op->expect_fail == HL_E_OK && r->error == HL_E_OK) {
            move_level(shadow, b, level - 1);
            close_from(shadow, level);
        }
        return;
    }
    case HL_OP_SCOPE_ENTER:
        if (ok && op->expect_fail == HL_E_OK) push_scope(shadow, op->scope);
        return;
    case HL_OP_SCOPE_EXIT:
        if (ok) close_from(shadow, scope_level(shadow, op->scope));
        return;
    case HL_OP_FREE_ALL:
        if (ok) close_from(shadow, 0);
        return;
    case HL_OP_FREE_LAYOUT: { /* accepted: the backend did free the block */
        sh_block *b = find(shadow, op->id);
        if (ok && b && b->state == SH_LIVE) drop(shadow, b);
        return;
    }
    default:
        return;
    }
}

/* A promote that succeeded closed the block's scope before it handed out the new
 * block, which may lie where that scope's blocks were: the view closes it (the block
 * moved to the parent first) before the new block is checked. */
static void promote_closes(hl_shadow *shadow, const hl_result *r)
{
    if (r->op->kind != HL_OP_PROMOTE || r->skipped || r->error != HL_E_OK) return;
    sh_block *b = find(shadow, r->op->id);
    uint32_t level = scope_level(shadow, r->op->scope);
    if (!b || b->state != SH_LIVE || !level) return;
    move_level(shadow, b, level - 1);
    close_from(shadow, level);
}

static int after_checks(hl_shadow *shadow, hl_exec *exec, const hl_result *r)
{
    promote_closes(shadow, r);
    if (!r->skipped && check_result(shadow, exec, r)) return 1;
    follow(shadow, r);
    if (shadow->concurrent) return 0;
    if (check_stats(shadow, exec)) return 1;
    if (!shadow->check_every) return 0;
    if (shadow->check_every == HL_CHECK_DEEP)
        return run_check(shadow, exec) || verify_from_level(shadow, exec, 0, "after this operation (a deep check)");
    if (shadow->check_every == HL_CHECK_UNTOUCHED) return run_check(shadow, exec);
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

static int after(void *context, hl_exec *exec, const hl_result *r)
{
    hl_shadow *shadow = context;
    if (shadow->found) return 1;
    if (!shadow->ready) setup(shadow, exec);
    shadow->op = r->op; /* another thread's before may have run since this one's */
    shadow->index = r->index;
    int stop = after_checks(shadow, exec, r);
    /* A recorded-as-failed alloc that succeeds here is freed at once (by the executor,
     * after the observers) and its id stays unused. */
    if (r->op->kind == HL_OP_ALLOC && r->op->expect_fail != HL_E_OK) {
        sh_block *b = find(shadow, r->op->id);
        if (b && b->state == SH_LIVE) drop(shadow, b);
    }
    return stop;
}

static int finish(void *context, hl_exec *exec)
{
    hl_shadow *shadow = context;
    if (shadow->found) return 1;
    if (!shadow->ready) setup(shadow, exec);
    shadow->op = NULL;
    shadow->index = hl_exec_counts_of(exec)->ops; /* past the last operation */
    if (check_stats(shadow, exec) || run_check(shadow, exec)) return 1;
    return verify_from_level(shadow, exec, 0, "at the end of the trace");
}

static void concurrent(void *context, bool on) { hl_shadow_concurrent(context, on); }

/* Starts loading id's home slot (entry false), then its record when the home slot
 * holds it, or the free record a new id will take when the slot is free (entry
 * true): the table and the pool are read at random. */
static void prefetch(void *context, uint64_t id, bool entry)
{
    const hl_shadow *shadow = context;
    uint64_t h = hash_of(id);
    const uint32_t *slot = &shadow->table[home_of(shadow, h)];
    if (!entry) {
        __builtin_prefetch(slot);
        return;
    }
    uint32_t v = *slot;
    if (v && v != DEAD(shadow) && (v & ~shadow->table_mask) == tag_of(shadow, h))
        __builtin_prefetch(&shadow->pool[v & shadow->table_mask], 1);
    else if (!v || v == DEAD(shadow)) /* likely a new id: the record it will take */
        __builtin_prefetch(&shadow->pool[shadow->pool_free ? shadow->pool_free : shadow->pool_count], 1);
}

hl_observer hl_shadow_observer(hl_shadow *shadow)
{
    hl_observer observer = {"shadow", shadow, before, after, finish, concurrent, prefetch};
    return observer;
}
