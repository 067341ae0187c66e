/* history.c: what the diff target sends for one input, and for a run of inputs on
 * the same instances. An input's stream is its decoded operations and a free_all, so
 * every input leaves the instances as new (CONTRACT.md, free_all) and the stream
 * written for a finding is the stream that ran. Instances that live across several
 * inputs (a child process that runs one after another; a malloc-style library whose
 * heap is process-global) saw those streams one after another: hl_fuzz_history puts
 * them into one self-contained trace, ids and scopes renumbered, which replays the
 * same calls on fresh instances. */
#include "hl_fuzz.h"

#include <string.h>

/* Appends the stream of one input to out, its block ids past *id_base and its scope
 * ids past *scope_base (both then moved past the ones it used). */
static void append(hl_trace *out, const uint8_t *bytes, size_t size, size_t max_ops, uint64_t *id_base,
                   uint32_t *scope_base)
{
    hl_trace one;
    hl_fuzz_decode(bytes, size, max_ops, "fuzz-input", &one);
    uint64_t top_id = *id_base;
    uint32_t top_scope = *scope_base;
    for (size_t i = 0; i < one.count; i++) {
        hl_op op = one.ops[i];
        if (op.id) op.id += *id_base;
        if (op.scope) op.scope += *scope_base;
        if (op.id > top_id) top_id = op.id;
        if (op.scope > top_scope) top_scope = op.scope;
        hl_trace_push(out, &op);
    }
    hl_op end;
    memset(&end, 0, sizeof end);
    end.kind = HL_OP_FREE_ALL;
    end.align = 1;
    hl_trace_push(out, &end);
    *id_base = top_id;
    *scope_base = top_scope;
    hl_trace_free(&one);
}

void hl_fuzz_history(const uint8_t *const *inputs, const size_t *sizes, size_t count, size_t max_ops,
                     const char *name, hl_trace *out)
{
    memset(out, 0, sizeof *out);
    out->path = hl_mem_strdup(name ? name : "fuzz-input");
    out->form = HL_TRACE_BINARY; /* lines are byte offsets in an input, as the decoder gives them */
    uint64_t id_base = 0;
    uint32_t scope_base = 0;
    for (size_t i = 0; i < count; i++) append(out, inputs[i], sizes[i], max_ops, &id_base, &scope_base);
}

void hl_fuzz_stream(const uint8_t *bytes, size_t size, size_t max_ops, const char *name, hl_trace *out)
{
    hl_fuzz_history(&bytes, &size, 1, max_ops, name, out);
}
