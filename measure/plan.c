/* plan.c: a trace compiled for the measure path (hl_measure.h, "The measure path"):
 * every operation the timed loop runs as one 16-byte step with a dense slot instead
 * of a block id, and the layout the contract's free and realloc need already filled
 * in, so the loop does no lookup, no decoding and no allocation of its own.
 *
 * A block id gets the slot of its first appearance (one slot per distinct id, as the
 * hand-written loop in bench/ keeps a pointer per id); a scope id likewise. Which
 * operations become steps: those the trace recorded as succeeding. A `fail=`
 * operation (it is about error behaviour: the checking pass runs it), a misuse
 * operation and an alloc with an alignment that is not a power of two are counted in
 * not_run. The trace is consistent (hl_trace_check passed), so an id is live exactly
 * where the trace says; the plan follows each id's layout through frees, reallocs and
 * promotes, and which ids are live at the end (the leftovers the loop frees, untimed,
 * when the backend was told HL_HINT_CALLER_FREES). */
#include "hl_measure.h"

#include <string.h>

typedef struct id_state {
    uint64_t size;
    uint8_t align_log2;
    bool live;
} id_state;

struct hl_plan_builder {
    hl_plan *plan;
    hl_idmap ids;          /* block id -> slot */
    hl_u64map scopes;      /* scope id -> slot */
    id_state *state;       /* by slot */
    size_t state_capacity, step_capacity, extra_capacity, wide_capacity;
};
typedef struct hl_plan_builder builder;

static uint32_t log2_of(uint64_t power) { return (uint32_t)__builtin_ctzll(power); }

static uint32_t slot_of(hl_u64map *map, uint64_t key, uint32_t *count)
{
    bool fresh;
    uint64_t *slot = hl_u64map_put(map, key, &fresh);
    if (fresh) *slot = (*count)++;
    return (uint32_t)*slot;
}

static id_state *block_slot(builder *b, uint64_t id, uint32_t *slot)
{
    if (!hl_idmap_find(&b->ids, id, slot)) {
        *slot = b->plan->block_slots++;
        hl_idmap_set(&b->ids, id, *slot);
    }
    if (b->plan->block_slots > b->state_capacity) { /* grown memory is zero */
        b->state_capacity = b->state_capacity ? 2 * b->state_capacity : 1024;
        b->state = hl_mem_realloc(b->state, b->state_capacity * sizeof *b->state);
    }
    return &b->state[*slot];
}

static hl_step *push(builder *b, hl_step_kind kind, uint32_t slot)
{
    hl_plan *p = b->plan;
    if (p->count == b->step_capacity) {
        b->step_capacity = b->step_capacity ? 2 * b->step_capacity : 4096;
        p->steps = hl_mem_realloc(p->steps, b->step_capacity * sizeof *p->steps);
    }
    hl_step *s = &p->steps[p->count++];
    memset(s, 0, sizeof *s);
    s->kind = (uint8_t)kind;
    s->slot = slot;
    return s;
}

/* Sets a step's size and aux, in 32 bits each when both fit, else through wides. */
static void set_values(builder *b, hl_step *s, uint64_t size, uint64_t aux)
{
    if (size < HL_STEP_WIDE && aux <= UINT32_MAX) {
        s->size = (uint32_t)size;
        s->aux = (uint32_t)aux;
        return;
    }
    hl_plan *p = b->plan;
    if (p->wide_count == b->wide_capacity) {
        b->wide_capacity = b->wide_capacity ? 2 * b->wide_capacity : 16;
        p->wides = hl_mem_realloc(p->wides, b->wide_capacity * sizeof *p->wides);
    }
    p->wides[p->wide_count] = (hl_step_wide){size, aux};
    s->size = HL_STEP_WIDE;
    s->aux = (uint32_t)p->wide_count++;
}

static void add_extra(builder *b, hl_step *s, uint32_t scope_slot, uint64_t old_size, uint64_t n)
{
    hl_plan *p = b->plan;
    if (p->extra_count == b->extra_capacity) {
        b->extra_capacity = b->extra_capacity ? 2 * b->extra_capacity : 16;
        p->extras = hl_mem_realloc(p->extras, b->extra_capacity * sizeof *p->extras);
    }
    p->extras[p->extra_count] = (hl_step_extra){scope_slot, old_size};
    set_values(b, s, n, p->extra_count++);
}

/* Every id live now, as a scope exit or free_all leaves it: all of them (free_all) or
 * those the trace's scope rules free are dead; the plan does not need to know which,
 * because the loop never sees those ids again before an alloc makes them live anew.
 * Only the final leftovers matter, and a trace with scopes or free_all never gets
 * CALLER_FREES. */
static void compile(builder *b, const hl_op *op)
{
    hl_plan *p = b->plan;
    uint32_t slot;
    id_state *st;
    switch ((hl_op_kind)op->kind) {
    case HL_OP_ALLOC:
        if (!hl_is_power_of_two(op->align) || op->align > (1ull << 31)) break;
        st = block_slot(b, op->id, &slot);
        *st = (id_state){op->size, (uint8_t)log2_of(op->align), true};
        hl_step *s = push(b, HL_STEP_ALLOC, slot);
        set_values(b, s, op->size, 0);
        s->align_log2 = st->align_log2;
        s->caps = (uint8_t)op->caps;
        return;
    case HL_OP_FREE:
        st = block_slot(b, op->id, &slot);
        if (!st->live) break;
        s = push(b, HL_STEP_FREE, slot);
        set_values(b, s, st->size, 0);
        s->align_log2 = st->align_log2;
        st->live = false;
        return;
    case HL_OP_REALLOC:
        st = block_slot(b, op->id, &slot);
        if (!st->live) break;
        s = push(b, HL_STEP_REALLOC, slot);
        set_values(b, s, op->size, st->size);
        s->align_log2 = st->align_log2;
        st->size = op->size;
        return;
    case HL_OP_USABLE:
        st = block_slot(b, op->id, &slot);
        if (!st->live) break;
        s = push(b, HL_STEP_USABLE, slot);
        set_values(b, s, st->size, 0);
        s->align_log2 = st->align_log2;
        return;
    case HL_OP_TOUCH:
        st = block_slot(b, op->id, &slot);
        if (!st->live || op->offset > st->size || op->size > st->size - op->offset) break;
        s = push(b, HL_STEP_TOUCH, slot);
        p->touches++;
        set_values(b, s, op->size, op->offset);
        s->write = op->write;
        return;
    case HL_OP_SCOPE_ENTER:
        p->scoped = true;
        push(b, HL_STEP_ENTER, slot_of(&b->scopes, op->scope, &p->scope_slots));
        return;
    case HL_OP_SCOPE_EXIT:
        p->scoped = true;
        push(b, HL_STEP_EXIT, slot_of(&b->scopes, op->scope, &p->scope_slots));
        return;
    case HL_OP_PROMOTE: {
        p->scoped = true;
        uint32_t scope = slot_of(&b->scopes, op->scope, &p->scope_slots);
        st = block_slot(b, op->id, &slot);
        if (!st->live || op->size > st->size) break;
        s = push(b, HL_STEP_PROMOTE, slot);
        s->align_log2 = st->align_log2;
        add_extra(b, s, scope, st->size, op->size);
        st->size = op->size;
        return;
    }
    case HL_OP_FREE_ALL:
        p->scoped = true;
        push(b, HL_STEP_FREE_ALL, 0);
        return;
    default: break; /* misuse */
    }
    p->not_run++;
}

hl_plan_builder *hl_plan_begin(hl_plan *out)
{
    memset(out, 0, sizeof *out);
    builder *b = hl_mem_alloc(sizeof *b);
    b->plan = out;
    return b;
}

void hl_plan_take(hl_plan_builder *b, const hl_op *op)
{
    if (op->expect_fail != HL_E_OK) b->plan->not_run++;
    else compile(b, op);
}

void hl_plan_end(hl_plan_builder *b)
{
    hl_plan *out = b->plan;
    /* the leftovers: ids live at the end (meaningful without scopes and free_all) */
    size_t live = 0;
    for (uint32_t s = 0; s < out->block_slots; s++) live += b->state[s].live;
    out->leftovers = hl_mem_alloc((live ? live : 1) * sizeof *out->leftovers);
    for (uint32_t s = 0; s < out->block_slots; s++)
        if (b->state[s].live) {
            hl_step *step = &out->leftovers[out->leftover_count++];
            *step = (hl_step){.kind = HL_STEP_FREE, .slot = s, .align_log2 = b->state[s].align_log2};
            set_values(b, step, b->state[s].size, 0);
        }
    if (!out->steps) out->steps = hl_mem_alloc(sizeof *out->steps);
    hl_mem_free(b->state);
    hl_idmap_free(&b->ids);
    hl_u64map_free(&b->scopes);
    hl_mem_free(b);
}

void hl_plan_build(const hl_trace *trace, hl_plan *out)
{
    hl_plan_builder *b = hl_plan_begin(out);
    for (size_t i = 0; i < trace->count; i++) hl_plan_take(b, &trace->ops[i]);
    hl_plan_end(b);
}

void hl_plan_free(hl_plan *plan)
{
    hl_mem_free(plan->steps);
    hl_mem_free(plan->extras);
    hl_mem_free(plan->leftovers);
    hl_mem_free(plan->wides);
    memset(plan, 0, sizeof *plan);
}
