/* deepen.c: the first rule broken, not the crash it caused. A backend that corrupts
 * its own heap often breaks a rule before it crashes: it hands out memory still on
 * its free list, or writes a list node into a live block, and the crash comes later,
 * when it follows what the harness's pattern wrote over that node. The periodic checks
 * look at the heap only now and then, and at contents only when a block is freed, so
 * the crash is what a normal run reports. Before a CRASH or HANG is written the stream
 * runs again, isolated, twice:
 *   HL_CHECK_DEEP       the backend's check and every live block's contents after
 *                       every operation (a node written into a live block: CONTENTS);
 *   HL_CHECK_UNTOUCHED  the backend's check after every operation and no pattern
 *                       written, so the allocator's own metadata in the memory it
 *                       handed out stays as it wrote it (its free list handed out:
 *                       OVERLAP when it hands that memory out again).
 * The earliest other rule either shows on the same backend, at or before the crash's
 * operation, is the one reported (DEEP first on a tie). When neither does, the crash's
 * stream is shrunk first (a long stream may free the memory the bug put on its free
 * list before handing it out again; at most 300 runs or 10 s: a finding waits for it)
 * and the smallest stream run both ways. */
#include "hl_check.h"

#include <string.h>

static bool crash_or_hang(hl_rule rule) { return rule == HL_RULE_CRASH || rule == HL_RULE_HANG; }

/* The earliest other rule DEEP or UNTOUCHED shows on stream (on got's backend, at or
 * before got's operation): its mode, with *best; 0 if neither does. */
static uint64_t earlier_rule(const hl_spec *specs, size_t count, const hl_trace *stream, double timeout,
                             const hl_ignores *ignores, const hl_diff_summary *got, hl_diff_summary *best)
{
    static const uint64_t modes[2] = {HL_CHECK_DEEP, HL_CHECK_UNTOUCHED};
    uint64_t chosen = 0;
    for (int m = 0; m < 2; m++) {
        hl_diff_summary again;
        hl_diff_isolated_ignoring(specs, count, stream, modes[m], timeout, ignores, &again);
        if (!again.found || crash_or_hang(again.finding.rule) || strcmp(again.backend, got->backend) != 0) continue;
        if (again.finding.index > got->finding.index) continue;
        if (chosen && again.finding.index >= best->finding.index) continue;
        *best = again;
        chosen = modes[m];
    }
    return chosen;
}

uint64_t hl_diff_deepen(const hl_spec *specs, size_t count, const hl_trace *stream, uint64_t check_every,
                        double timeout, const hl_ignores *ignores, hl_diff_summary *got, hl_trace *smaller)
{
    memset(smaller, 0, sizeof *smaller);
    if (!got->found || !crash_or_hang(got->finding.rule)) return 0;
    hl_diff_summary best;
    uint64_t mode = earlier_rule(specs, count, stream, timeout, ignores, got, &best);
    if (mode) {
        *got = best;
        return mode;
    }
    /* On a long stream the memory the bug put on its free list may be freed before it
     * is handed out again: the crash's smallest stream shows it when anything does. */
    hl_shrink_options o = {.check_every = check_every, .timeout = timeout, .max_seconds = 10, .max_runs = 300,
                           .want_rule = true, .rule = got->finding.rule};
    hl_trace small;
    hl_shrink_result r;
    if (hl_shrink(specs, count, stream, &o, &small, &r) != 0) return 0;
    if (!r.finding.found || strcmp(r.finding.backend, got->backend) != 0 ||
        !(mode = earlier_rule(specs, count, &small, timeout, ignores, &r.finding, &best))) {
        hl_trace_free(&small);
        return 0;
    }
    *got = best;
    *smaller = small;
    return mode;
}
