/* target_diff.c: the diff target: decode the bytes (hl_fuzz_decode) into an
 * operation stream over the whole contract and run it on every backend in lockstep,
 * each under its own shadow model (hl_diff_watched, so an isolating front end learns
 * which lane and operation are in flight). */
#include "hl_fuzz.h"

int hl_fuzz_target_diff(const hl_fuzz_target *t, const uint8_t *data, size_t size, hl_diff_summary *s, uint32_t *kinds)
{
    hl_trace trace;
    hl_fuzz_decode(data, size, t->max_ops, "fuzz-input", &trace);
    if (kinds)
        for (size_t i = 0; i < trace.count; i++) *kinds |= 1u << trace.ops[i].kind;
    int rc = hl_diff_watched_ignoring(t->specs, t->count, &trace, t->check_every, t->ignores, s, t->watch);
    hl_trace_free(&trace);
    return rc;
}
