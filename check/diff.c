/* diff.c: differential runs. One lane per backend (the run loop, run/lanes.c), each
 * under its own shadow model, stepped in lockstep over one stream; after each
 * operation a hook over the lanes compares the outcomes as CONTRACT.md's
 * differential rules say. The executors already send each
 * operation only where the backend's declarations cover it, and misuse only where the
 * address lies in no live block; this file adds what needs several of them at once:
 * retiring an id some backends could not serve, ending the comparison at a one-sided
 * scope failure, and the comparison itself. */
#include "hl_check.h"
#include "hl_lanes.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* What diff keeps per lane beside the run loop's lane (run/lanes.c). */
typedef struct lane {
    const hl_spec *spec;
    hl_lane *run;      /* the executor and its latest result (recorded before the shadow runs) */
    hl_shadow *shadow;
    const char *group; /* offset_exact_group when the backend declares OFFSET_EXACT, else NULL */
    uint64_t memory;   /* its memory's size after the latest operation (group lanes only) */
} lane;

/* Outcomes each backend decides for itself: not compared. */
static bool compared(const hl_op *op)
{
    switch ((hl_op_kind)op->kind) {
    case HL_OP_USABLE:
    case HL_OP_TOUCH:
    case HL_OP_DOUBLE_FREE:
    case HL_OP_FREE_INVALID:
    case HL_OP_FREE_LAYOUT:
    case HL_OP_OVERFLOW:
    case HL_OP_UNDERFLOW:
    case HL_OP_AFTER_FREE:
        return false;
    default:
        return op->expect_fail == HL_E_OK; /* a recorded failure's outcome is not compared */
    }
}

static void shadow_finding(hl_diff_summary *s, const lane *l)
{
    s->found = true;
    s->finding = *hl_shadow_finding(l->shadow);
    snprintf(s->backend, sizeof s->backend, "%s", l->spec->label);
}

/* The memory size of a lane's instance (its stats' footprint). */
static uint64_t memory_size(const lane *l)
{
    hl_stats stats;
    const hl_backend *backend = hl_exec_backend(l->run->exec);
    backend->stats(hl_exec_heap(l->run->exec), &stats);
    return stats.footprint;
}

/* Records a difference between two lanes of one offset-exact group. */
static int group_differs(hl_diff_summary *s, const lane *a, const lane *b, hl_rule rule, const hl_op *op, uint64_t index,
                         const char *what, const char *value_a, const char *value_b)
{
    s->found = true;
    s->finding = (hl_finding){.rule = rule, .index = index, .line = op->line};
    snprintf(s->finding.message, sizeof s->finding.message, "%s of block id %" PRIu64 ": %s %s %s, %s %s (group %s)",
             hl_op_name((hl_op_kind)op->kind), op->id, a->spec->label, what, value_a, b->spec->label, value_b, a->group);
    snprintf(s->backend, sizeof s->backend, "%s", a->spec->label);
    snprintf(s->other, sizeof s->other, "%s", b->spec->label);
    return 1;
}

/* Backends that declare one offset_exact_group are builds of one allocator over the
 * same linear memory (a native build and the real module, in any engine): after every
 * operation they gave the same answer (a legal failure included), the same offset for
 * the block it made, and their memories have the same size. */
static int compare_group(hl_diff_summary *s, lane *lanes, size_t count, const hl_op *op, uint64_t index)
{
    bool compared = false;
    for (size_t k = 0; k < count; k++) /* each lane's stats once, not once a pair */
        if (lanes[k].group && !lanes[k].run->last.skipped && !lanes[k].run->stopped) lanes[k].memory = memory_size(&lanes[k]);
    for (size_t k = 0; k < count; k++) {
        const lane *b = &lanes[k];
        if (!b->group || b->run->last.skipped || b->run->stopped) continue;
        for (size_t j = 0; j < k; j++) {
            const lane *a = &lanes[j];
            if (!a->group || a->run->last.skipped || a->run->stopped || strcmp(a->group, b->group) != 0) continue;
            const hl_result *ra = &a->run->last, *rb = &b->run->last;
            char va[64], vb[64];
            if (ra->error != rb->error)
                return group_differs(s, a, b, HL_RULE_OUTCOME_DIFFERS, op, index, "answers", hl_error_name(ra->error),
                                     hl_error_name(rb->error));
            bool made = ra->error == HL_E_OK &&
                        (op->kind == HL_OP_ALLOC || op->kind == HL_OP_REALLOC || op->kind == HL_OP_PROMOTE);
            if (made) {
                compared = true;
                if (ra->addr != rb->addr) {
                    snprintf(va, sizeof va, "%#" PRIxPTR, ra->addr);
                    snprintf(vb, sizeof vb, "%#" PRIxPTR, rb->addr);
                    return group_differs(s, a, b, HL_RULE_OFFSET_DIFFERS, op, index, "hands out offset", va, vb);
                }
            }
            if (a->memory != b->memory) {
                snprintf(va, sizeof va, "%" PRIu64 " bytes", a->memory);
                snprintf(vb, sizeof vb, "%" PRIu64 " bytes", b->memory);
                return group_differs(s, a, b, HL_RULE_OFFSET_DIFFERS, op, index, "has a memory of", va, vb);
            }
        }
    }
    s->offsets_compared += compared;
    return 0;
}

/* Compares lanes after operation i; 1 on a finding or an end, 0 to go on. */
static int compare(hl_diff_summary *s, lane *lanes, size_t count, const hl_op *op, uint64_t index)
{
    if (compare_group(s, lanes, count, op, index)) return 1;
    if (!compared(op)) return 0;
    const lane *ok = NULL, *failed = NULL;
    for (size_t k = 0; k < count; k++) {
        if (lanes[k].run->last.skipped || lanes[k].run->stopped) continue;
        if (lanes[k].run->last.error == HL_E_OK) ok = ok ? ok : &lanes[k];
        else failed = failed ? failed : &lanes[k];
        for (size_t j = 0; j < k; j++) {
            if (lanes[j].run->last.skipped || lanes[j].run->stopped ||
                lanes[j].run->last.error == lanes[k].run->last.error)
                continue;
            bool legal_failure = op->kind == HL_OP_ALLOC || op->kind == HL_OP_REALLOC ||
                                 op->kind == HL_OP_SCOPE_ENTER || op->kind == HL_OP_PROMOTE;
            if (legal_failure && lanes[j].run->last.error != HL_E_OK && lanes[k].run->last.error != HL_E_OK) continue;
            if (legal_failure) continue; /* one side served it: handled below */
            s->found = true;
            s->finding = (hl_finding){.rule = HL_RULE_OUTCOME_DIFFERS, .index = index, .line = op->line};
            snprintf(s->finding.message, sizeof s->finding.message, "%s: %s answers %s, %s answers %s",
                     hl_op_name((hl_op_kind)op->kind), lanes[j].spec->label, hl_error_name(lanes[j].run->last.error),
                     lanes[k].spec->label, hl_error_name(lanes[k].run->last.error));
            snprintf(s->backend, sizeof s->backend, "%s", lanes[j].spec->label);
            snprintf(s->other, sizeof s->other, "%s", lanes[k].spec->label);
            return 1;
        }
    }
    if (!ok || !failed) return 0;
    if (op->kind == HL_OP_SCOPE_ENTER || op->kind == HL_OP_PROMOTE) {
        s->ended = true;
        s->ended_at = index;
        snprintf(s->ended_reason, sizeof s->ended_reason, "%s failed in %s only (%s): the comparison ends here",
                 hl_op_name((hl_op_kind)op->kind), failed->spec->label, hl_error_name(failed->run->last.error));
        return 1;
    }
    if (op->kind == HL_OP_ALLOC || op->kind == HL_OP_REALLOC) { /* served by some: retire everywhere */
        for (size_t k = 0; k < count; k++)
            if (!lanes[k].run->stopped)
                hl_shadow_retire(lanes[k].shadow, op->id, hl_exec_retire(lanes[k].run->exec, op->id));
        s->retired++;
    }
    return 0;
}


int hl_diff(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every, hl_diff_summary *s)
{
    return hl_diff_watched_ignoring(specs, count, trace, check_every, NULL, s, NULL);
}

int hl_diff_watched(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                    hl_diff_summary *s, hl_watch *watch)
{
    return hl_diff_watched_ignoring(specs, count, trace, check_every, NULL, s, watch);
}

typedef struct diff_run {
    hl_diff_summary *s;
    lane *lanes;
    size_t count;
} diff_run;

/* The hook over the lanes after each operation: the outcomes seen (the fuzzer's
 * feedback), then the comparison. */
static int after_each(void *context, hl_lanes *all, const hl_op *op, uint64_t index)
{
    (void)all;
    diff_run *d = context;
    hl_diff_summary *s = d->s;
    s->ops = index + 1;
    for (size_t k = 0; k < d->count; k++) {
        const hl_result *last = &d->lanes[k].run->last;
        if (!last->skipped && !d->lanes[k].run->stopped && last->error < 64)
            s->outcomes[op->kind] |= 1ull << last->error;
    }
    compare(s, d->lanes, d->count, op, index);
    return s->found ? 1 : s->ended ? 2 : 0;
}

/* Sets lane k aside at its shadow model's finding, if that finding is ignored. */
static bool set_aside(hl_diff_summary *s, lane *l, const hl_ignores *ignores)
{
    const hl_finding *f = hl_shadow_finding(l->shadow);
    if (!f || !hl_ignored(ignores, f->rule, l->spec)) return false;
    if (s->ignored < HL_DIFF_IGNORED_KEPT) {
        s->ignored_finding[s->ignored] = *f;
        snprintf(s->ignored_backend[s->ignored], sizeof s->ignored_backend[0], "%s", l->spec->label);
    }
    s->ignored++;
    l->run->stopped = true;
    return true;
}

struct hl_differ {
    const hl_spec *specs;
    size_t count;
    uint64_t check_every;
    const hl_ignores *ignores;
    hl_lanes *runs;
    lane *lanes;
    bool used;     /* a stream ran on the instances */
    bool reusable; /* and left every one of them as new */
};

hl_differ *hl_differ_open(const hl_spec *specs, size_t count, uint64_t check_every, const hl_ignores *ignores,
                          uint32_t hints, hl_watch *watch, hl_diff_summary *failed)
{
    hl_diag diag;
    hl_lanes *runs = hl_lanes_open(specs, count, NULL, 0, true, HL_HINT_ONE_THREAD | hints, watch, &diag);
    if (!runs) {
        memset(failed, 0, sizeof *failed);
        failed->setup_failed = true;
        snprintf(failed->setup_error, sizeof failed->setup_error, "%s", diag.message);
        return NULL;
    }
    hl_differ *d = hl_mem_alloc(sizeof *d);
    *d = (hl_differ){specs, count, check_every, ignores, runs, hl_mem_alloc((count ? count : 1) * sizeof(lane)),
                     false, true};
    return d;
}

bool hl_differ_reusable(const hl_differ *d) { return d->reusable; }

void hl_differ_close(hl_differ *d)
{
    if (!d) return;
    for (size_t k = 0; d->used && k < d->count; k++) hl_shadow_free(d->lanes[k].shadow);
    hl_lanes_close(d->runs);
    hl_mem_free(d->lanes);
    hl_mem_free(d);
}

/* Executors and shadow models for the next stream: made with the first, reset (their
 * tables kept) for each one after it. */
static void differ_begin(hl_differ *d, const hl_trace *trace)
{
    if (d->used) {
        hl_lanes_renew(d->runs, trace->ops, trace->count);
        for (size_t k = 0; k < d->count; k++) hl_shadow_reset(d->lanes[k].shadow);
        return;
    }
    d->used = true;
    for (size_t k = 0; k < d->count; k++) {
        lane *l = &d->lanes[k];
        l->spec = &d->specs[k];
        l->run = hl_lanes_at(d->runs, k);
        hl_exec *exec = l->run->exec;
        hl_exec_expect(exec, trace->ops, trace->count);
        const hl_info *info = hl_exec_info(exec);
        l->group = info->features & HL_FEATURE_OFFSET_EXACT ? info->offset_exact_group : NULL;
        hl_exec_time_calls(exec, HL_TIMING_OFF);
        l->shadow = hl_shadow_new(d->check_every);
        hl_observer shadow = hl_shadow_observer(l->shadow);
        hl_exec_observe(exec, &shadow);
    }
}

/* The instances are as new after a stream when it ran to its end with no finding and
 * ended with a free_all every lane served. */
static bool left_as_new(const hl_differ *d, const hl_trace *trace, const hl_diff_summary *s)
{
    if (s->found || s->ended || !trace->count || trace->ops[trace->count - 1].kind != HL_OP_FREE_ALL ||
        s->ops != trace->count)
        return false;
    for (size_t k = 0; k < d->count; k++) {
        const hl_lane *l = d->lanes[k].run;
        if (l->stopped || l->last.skipped || l->last.error != HL_E_OK || l->last.index != trace->count - 1) return false;
    }
    return true;
}

int hl_differ_run(hl_differ *dr, const hl_trace *trace, hl_diff_summary *s)
{
    memset(s, 0, sizeof *s);
    differ_begin(dr, trace);
    hl_lanes *runs = dr->runs;
    lane *lanes = dr->lanes;
    size_t count = dr->count;
    const hl_ignores *ignores = dr->ignores;
    diff_run d = {s, lanes, count};
    hl_lanes_hook hook = {after_each, &d};
    uint64_t at = 0, next = 0;
    size_t which = 0;
    int rc = 0;
    while (next < trace->count) {
        size_t rest = trace->count - next;
        rc = hl_lanes_run_window(runs, trace->ops + next, rest, rest, next, trace->count, &hook, NULL, &at, &which);
        /* an ignored finding sets its lane aside: the operation goes on through the
         * lanes after it, is compared, and the stream goes on */
        while (rc == 1 && !s->found && set_aside(s, &lanes[which], ignores)) {
            rc = hl_lanes_step_from(runs, trace->ops + at, trace->count - at, at, which + 1, &which);
            if (rc != 1) {
                int verdict = after_each(&d, runs, &trace->ops[at], at);
                if (verdict) rc = verdict;
            }
        }
        if (rc != 0) break;
        next = at + 1;
    }
    if (rc == 1 && !s->found) { /* a lane's shadow model stopped the stream */
        s->ops = at + 1;
        shadow_finding(s, &lanes[which]);
    }
    if (rc == 2 && !s->found && !s->ended) { /* a scope operation failed in every lane that ran it */
        bool everywhere = true;
        for (size_t k = 0; k < count; k++) everywhere &= lanes[k].run->last.stream_ended;
        s->ended = true;
        s->ended_at = at;
        snprintf(s->ended_reason, sizeof s->ended_reason, "%s failed %s: the rest of the stream cannot follow",
                 hl_op_name((hl_op_kind)trace->ops[at].kind), everywhere ? "in every backend" : "in some backends");
    }
    if (!s->found && hl_lanes_finish(runs, s->ops, &which) && hl_shadow_finding(lanes[which].shadow))
        shadow_finding(s, &lanes[which]);
    dr->reusable = left_as_new(dr, trace, s);
    uint64_t failed_id = 0;
    hl_error failed;
    if (hl_lanes_teardown(runs, &which, &failed_id, &failed) && !s->found) {
        s->found = true;
        s->finding = (hl_finding){.rule = HL_RULE_WRONG_ERROR, .index = s->ops, .teardown = true,
                                  .teardown_id = failed_id};
        snprintf(s->finding.message, sizeof s->finding.message, "teardown: free of block id %" PRIu64 ", live, answered %s",
                 failed_id, hl_error_name(failed));
        snprintf(s->backend, sizeof s->backend, "%s", lanes[which].spec->label);
        dr->reusable = false;
    }
    return s->found ? 1 : 0;
}

int hl_diff_watched_ignoring(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                             const hl_ignores *ignores, hl_diff_summary *s, hl_watch *watch)
{
    hl_differ *d = hl_differ_open(specs, count, check_every, ignores, 0, watch, s);
    if (!d) return 2;
    int rc = hl_differ_run(d, trace, s);
    hl_differ_close(d);
    return rc;
}

typedef struct isolated_diff {
    const hl_spec *specs;
    size_t count;
    const hl_trace *trace;
    uint64_t check_every;
    const hl_ignores *ignores;
} isolated_diff;

static int child_diff(void *context, hl_watch *watch, void *result)
{
    isolated_diff *d = context;
    return hl_diff_watched_ignoring(d->specs, d->count, d->trace, d->check_every, d->ignores, result, watch);
}

int hl_diff_isolated(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                     double timeout, hl_diff_summary *out)
{
    return hl_diff_isolated_ignoring(specs, count, trace, check_every, timeout, NULL, out);
}

int hl_diff_isolated_ignoring(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                              double timeout, const hl_ignores *ignores, hl_diff_summary *out)
{
    isolated_diff d = {specs, count, trace, check_every, ignores};
    hl_diff_summary *answer = hl_mem_alloc(sizeof *answer);
    hl_isolation iso = {.timeout = timeout};
    hl_isolated how;
    int rc = hl_isolate(child_diff, &d, answer, sizeof *answer, &iso, &how);
    if (how.end == HL_ISOLATED_FAILED) { /* no child: run here */
        hl_mem_free(answer);
        return hl_diff_watched_ignoring(specs, count, trace, check_every, ignores, out, NULL);
    }
    if (how.end != HL_ISOLATED_RETURNED && how.published && answer->found) rc = 1; /* an earlier finding wins */
    else if (how.end != HL_ISOLATED_RETURNED) { /* the child died inside a backend, or hung */
        if (!how.published) {
            memset(answer, 0, sizeof *answer);
            answer->ops = how.watch.op;
        }
        uint32_t at = how.watch.lane < count ? how.watch.lane : 0;
        snprintf(answer->backend, sizeof answer->backend, "%s", specs[at].label);
        hl_isolated_finding(&how, specs[at].label, timeout, &answer->finding);
        uint64_t index = answer->finding.index;
        answer->finding.line = index < trace->count ? trace->ops[index].line : 0;
        answer->found = true;
        rc = 1;
    }
    *out = *answer;
    hl_mem_free(answer);
    return rc;
}
