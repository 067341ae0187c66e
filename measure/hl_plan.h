/* hl_plan.h: the measure path's plan (measure/plan.c), part of measure/'s interface
 * (hl_measure.h includes it). */
#ifndef HL_PLAN_H
#define HL_PLAN_H

#include "hl_run.h"

/* Speed is measured apart from checking (plan.c, speed.c): a trace is compiled into a
 * plan of steps, then a loop runs the steps on one backend instance holding nothing
 * but the backend calls, one clock read before and one after, and the memory work the
 * hand-written loop in bench/ does (the first byte of every block an alloc or realloc
 * returns is written). No observer, no statistics read, no block map, no pattern. */
typedef enum hl_step_kind {
    HL_STEP_ALLOC, HL_STEP_FREE, HL_STEP_REALLOC, HL_STEP_USABLE, HL_STEP_TOUCH,
    HL_STEP_ENTER, HL_STEP_EXIT, HL_STEP_PROMOTE, HL_STEP_FREE_ALL
} hl_step_kind;

/* One operation of the plan (16 bytes: the measure path's whole cost per operation).
 * slot: the block's (a scope's for ENTER and EXIT). size: ALLOC/USABLE/FREE the
 * block's size, REALLOC the new size, TOUCH the length, PROMOTE n. aux: REALLOC the
 * old size, TOUCH the offset, PROMOTE an index into extras. align_log2: the block's
 * alignment. Values in the widths they need: a size or aux of 2^32 - 1 or more makes
 * the step wide (size == HL_STEP_WIDE, aux an index into wides, which holds both);
 * read them with hl_step_size and hl_step_aux. */
typedef struct hl_step {
    uint8_t kind, align_log2, caps, write;
    uint32_t slot;
    uint32_t size;
    uint32_t aux;
} hl_step;

#define HL_STEP_WIDE UINT32_MAX

typedef struct hl_step_wide {
    uint64_t size, aux;
} hl_step_wide;

typedef struct hl_step_extra {
    uint32_t scope_slot;
    uint64_t old_size;
} hl_step_extra;

typedef struct hl_plan {
    hl_step *steps;
    size_t count;
    hl_step_extra *extras;       /* PROMOTE's scope and the block's size */
    size_t extra_count;
    hl_step_wide *wides;         /* the values of wide steps */
    size_t wide_count;
    hl_step *leftovers;          /* FREE steps of the blocks live at the end */
    size_t leftover_count;
    uint32_t block_slots, scope_slots;
    uint64_t not_run;            /* operations that are no step (see plan.c) */
    uint64_t touches;            /* TOUCH steps (no backend call) */
    bool scoped;                 /* scopes or free_all: the backend keeps its tracker */
} hl_plan;

static inline uint64_t hl_step_size(const hl_plan *plan, const hl_step *s)
{
    return __builtin_expect(s->size != HL_STEP_WIDE, 1) ? s->size : plan->wides[s->aux].size;
}
static inline uint64_t hl_step_aux(const hl_plan *plan, const hl_step *s)
{
    return __builtin_expect(s->size != HL_STEP_WIDE, 1) ? s->aux : plan->wides[s->aux].aux;
}

/* Compiles trace (consistent: hl_trace_check passed) into *out; never fails. Free
 * with hl_plan_free. */
void hl_plan_build(const hl_trace *trace, hl_plan *out);
/* The same an operation at a time, for a trace read as a stream: begin, take each
 * operation in order, end (which completes *out and frees the builder). */
typedef struct hl_plan_builder hl_plan_builder;
hl_plan_builder *hl_plan_begin(hl_plan *out);
void hl_plan_take(hl_plan_builder *builder, const hl_op *op);
void hl_plan_end(hl_plan_builder *builder);
void hl_plan_free(hl_plan *plan);

#endif /* HL_PLAN_H */
