/* target_decode.c: the decode target: decode the bytes and run nothing, the bare
 * rate the diff target's exec/s is compared with (what the engine itself costs). */
#include "hl_fuzz.h"

int hl_fuzz_target_decode(const hl_fuzz_target *t, const uint8_t *data, size_t size, hl_diff_summary *s,
                          uint32_t *kinds)
{
    hl_trace trace;
    hl_fuzz_decode(data, size, t->max_ops, "fuzz-input", &trace);
    if (kinds)
        for (size_t i = 0; i < trace.count; i++) *kinds |= 1u << trace.ops[i].kind;
    s->ops = trace.count;
    hl_trace_free(&trace);
    return 0;
}
