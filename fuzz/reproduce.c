/* reproduce.c: a finding a front end may write is one that replays. The diff target
 * runs inputs one after another on instances (and in a process) that live across
 * them, so what an input found may need the inputs before it: a malloc-style
 * library's heap is process-global, and a heap corrupted by one input breaks under
 * the next. Before a finding is written it is run again on fresh instances in a fresh
 * process (hl_diff_isolated): the input alone, then, if that does not show it, the
 * inputs since its instances were made, then every input since the process began, each
 * run as one self-contained trace (hl_fuzz_history).
 * The first that shows the same rule on the same backend is the reproducer. */
#include "hl_fuzz.h"

#include <string.h>

static bool same(const hl_diff_summary *a, const hl_diff_summary *b)
{
    return a->found && b->found && a->finding.rule == b->finding.rule && strcmp(a->backend, b->backend) == 0;
}

int hl_fuzz_reproduce(const hl_fuzz_target *t, const uint8_t *const *inputs, const size_t *sizes, size_t count,
                      size_t on_instances, const hl_diff_summary *found, double timeout, hl_trace *out,
                      hl_diff_summary *got)
{
    /* the input alone; with the inputs its instances served before it; with every
     * input since the process began (a library's global heap outlives instances) */
    size_t tries[3] = {1, on_instances, count};
    for (int k = 0; k < 3; k++) {
        if (k > 0 && (tries[k] <= tries[k - 1] || tries[k] > count)) continue;
        size_t first = count - tries[k];
        hl_fuzz_history(inputs + first, sizes + first, tries[k], t->max_ops, "fuzz-input", out);
        hl_diff_isolated_ignoring(t->specs, t->count, out, t->check_every, timeout, t->ignores, got);
        if (same(found, got)) return k + 1;
        hl_trace_free(out);
    }
    hl_fuzz_stream(inputs[count - 1], sizes[count - 1], t->max_ops, "fuzz-input", out);
    *got = *found;
    return 0;
}
