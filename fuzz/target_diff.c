/* target_diff.c: the diff target: decode the bytes into an operation stream over the
 * whole contract that ends with free_all (hl_fuzz_stream) and run it on every backend
 * in lockstep, each under its own shadow model (hl_diff_watched, so an isolating front end learns
 * which lane and operation are in flight). */
#include "hl_fuzz.h"

/* The input's stream on the kept instances (made first when there are none, or when
 * they served fresh_every inputs); they are dropped when the stream did not leave
 * them as new. */
static int on_kept_instances(hl_fuzz_target *t, const hl_trace *trace, hl_diff_summary *s)
{
    if (t->differ && t->differ_inputs >= t->fresh_every) hl_fuzz_target_forget(t);
    if (!t->differ) {
        /* big fuzz sizes are touched sparsely: their commits need not be resident */
        t->differ = hl_differ_open(t->specs, t->count, t->check_every, t->ignores, HL_HINT_SPARSE, t->watch, s);
        if (!t->differ) return 2;
    }
    int rc = hl_differ_run(t->differ, trace, s);
    t->differ_inputs++;
    if (!hl_differ_reusable(t->differ)) hl_fuzz_target_forget(t);
    return rc;
}

int hl_fuzz_target_diff(hl_fuzz_target *t, const uint8_t *data, size_t size, hl_diff_summary *s, uint32_t *kinds)
{
    hl_trace trace;
    hl_fuzz_stream(data, size, t->max_ops, "fuzz-input", &trace);
    uint32_t decoded = 0; /* the kinds of the input's operations, not the closing free_all's */
    for (size_t i = 0; i + 1 < trace.count; i++) decoded |= 1u << trace.ops[i].kind;
    if (kinds) *kinds |= decoded;
    int rc = t->fresh_every > 1 ? on_kept_instances(t, &trace, s)
                                : hl_diff_watched_ignoring(t->specs, t->count, &trace, t->check_every, t->ignores, s,
                                                           t->watch);
    /* the feedback is the input's: an outcome of the closing free_all alone is not new behaviour */
    if (!(decoded & (1u << HL_OP_FREE_ALL))) s->outcomes[HL_OP_FREE_ALL] = 0;
    hl_trace_free(&trace);
    return rc;
}
