/* diff.c: differential runs. One executor per backend, each under its own shadow
 * model, stepped in lockstep over one stream; after each operation the outcomes are
 * compared as CONTRACT.md's differential rules say. The executors already send each
 * operation only where the backend's declarations cover it, and misuse only where the
 * address lies in no live block; this file adds what needs several of them at once:
 * retiring an id some backends could not serve, ending the comparison at a one-sided
 * scope failure, and the comparison itself. */
#include "hl_check.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct lane {
    const hl_spec *spec;
    hl_heap *heap;
    hl_exec *exec;
    hl_shadow *shadow;
    hl_result last; /* the latest operation's result, recorded before the shadow runs */
    const char *group; /* offset_exact_group when the backend declares OFFSET_EXACT, else NULL */
} lane;

static int record(void *context, hl_exec *exec, const hl_result *result)
{
    (void)exec;
    ((lane *)context)->last = *result;
    return 0;
}

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
    snprintf(s->backend, sizeof s->backend, "%s", l->spec->text);
}

/* Backends that declare one offset_exact_group hand out the same offsets (linear
 * memory: the addresses are offsets) for a block every one of them served. */
static int compare_offsets(hl_diff_summary *s, const lane *lanes, size_t count, const hl_op *op, uint64_t index)
{
    const lane *first = NULL;
    bool compared = false;
    for (size_t k = 0; k < count; k++) {
        if (!lanes[k].group || lanes[k].last.skipped) continue;
        for (size_t j = 0; j < k; j++) {
            if (!lanes[j].group || lanes[j].last.skipped || strcmp(lanes[j].group, lanes[k].group) != 0) continue;
            compared = true;
            if (lanes[j].last.addr == lanes[k].last.addr) continue;
            first = &lanes[j];
            s->found = true;
            s->finding = (hl_finding){.rule = HL_RULE_OFFSET_DIFFERS, .index = index, .line = op->line};
            snprintf(s->finding.message, sizeof s->finding.message,
                     "%s of block id %" PRIu64 ": %s hands out offset %#" PRIxPTR ", %s %#" PRIxPTR " (group %s)",
                     hl_op_name((hl_op_kind)op->kind), op->id, first->spec->text, first->last.addr, lanes[k].spec->text,
                     lanes[k].last.addr, lanes[k].group);
            snprintf(s->backend, sizeof s->backend, "%s", first->spec->text);
            snprintf(s->other, sizeof s->other, "%s", lanes[k].spec->text);
            return 1;
        }
    }
    s->offsets_compared += compared;
    return 0;
}

/* Compares lanes after operation i; 1 on a finding or an end, 0 to go on. */
static int compare(hl_diff_summary *s, lane *lanes, size_t count, const hl_op *op, uint64_t index)
{
    if (!compared(op)) return 0;
    const lane *ok = NULL, *failed = NULL;
    for (size_t k = 0; k < count; k++) {
        if (lanes[k].last.skipped) continue;
        if (lanes[k].last.error == HL_E_OK) ok = ok ? ok : &lanes[k];
        else failed = failed ? failed : &lanes[k];
        for (size_t j = 0; j < k; j++) {
            if (lanes[j].last.skipped || lanes[j].last.error == lanes[k].last.error) continue;
            bool legal_failure = op->kind == HL_OP_ALLOC || op->kind == HL_OP_REALLOC ||
                                 op->kind == HL_OP_SCOPE_ENTER || op->kind == HL_OP_PROMOTE;
            if (legal_failure && lanes[j].last.error != HL_E_OK && lanes[k].last.error != HL_E_OK) continue;
            if (legal_failure) continue; /* one side served it: handled below */
            s->found = true;
            s->finding = (hl_finding){.rule = HL_RULE_OUTCOME_DIFFERS, .index = index, .line = op->line};
            snprintf(s->finding.message, sizeof s->finding.message, "%s: %s answers %s, %s answers %s",
                     hl_op_name((hl_op_kind)op->kind), lanes[j].spec->text, hl_error_name(lanes[j].last.error),
                     lanes[k].spec->text, hl_error_name(lanes[k].last.error));
            snprintf(s->backend, sizeof s->backend, "%s", lanes[j].spec->text);
            snprintf(s->other, sizeof s->other, "%s", lanes[k].spec->text);
            return 1;
        }
    }
    if (ok && !failed && (op->kind == HL_OP_ALLOC || op->kind == HL_OP_REALLOC || op->kind == HL_OP_PROMOTE) &&
        compare_offsets(s, lanes, count, op, index))
        return 1;
    if (!ok || !failed) return 0;
    if (op->kind == HL_OP_SCOPE_ENTER || op->kind == HL_OP_PROMOTE) {
        s->ended = true;
        s->ended_at = index;
        snprintf(s->ended_reason, sizeof s->ended_reason, "%s failed in %s only (%s): the comparison ends here",
                 hl_op_name((hl_op_kind)op->kind), failed->spec->text, hl_error_name(failed->last.error));
        return 1;
    }
    if (op->kind == HL_OP_ALLOC || op->kind == HL_OP_REALLOC) { /* served by some: retire everywhere */
        for (size_t k = 0; k < count; k++) hl_shadow_retire(lanes[k].shadow, op->id, hl_exec_retire(lanes[k].exec, op->id));
        s->retired++;
    }
    return 0;
}

int hl_diff(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every, hl_diff_summary *s)
{
    return hl_diff_watched(specs, count, trace, check_every, s, NULL);
}

int hl_diff_watched(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                    hl_diff_summary *s, hl_watch *watch)
{
    memset(s, 0, sizeof *s);
    lane *lanes = hl_mem_alloc(count * sizeof *lanes);
    int rc = 0;
    hl_watch_phase(watch, HL_PHASE_SETUP);
    for (size_t k = 0; k < count && !rc; k++) {
        hl_diag diag;
        if (watch) watch->lane = (uint32_t)k;
        lanes[k].spec = &specs[k];
        lanes[k].heap = hl_spec_create(&specs[k], &diag);
        if (!lanes[k].heap) {
            s->setup_failed = true;
            snprintf(s->setup_error, sizeof s->setup_error, "%s", diag.message);
            rc = 2;
            break;
        }
        lanes[k].exec = hl_exec_new(specs[k].backend, lanes[k].heap, specs[k].text);
        const hl_info *info = hl_exec_info(lanes[k].exec);
        lanes[k].group = info->features & HL_FEATURE_OFFSET_EXACT ? info->offset_exact_group : NULL;
        hl_exec_expect(lanes[k].exec, trace->ops, trace->count);
        hl_exec_time_calls(lanes[k].exec, HL_TIMING_OFF);
        hl_observer recorder = {"recorder", &lanes[k], NULL, record, NULL, NULL, NULL};
        hl_exec_observe(lanes[k].exec, &recorder);
        lanes[k].shadow = hl_shadow_new(check_every);
        hl_observer shadow = hl_shadow_observer(lanes[k].shadow);
        hl_exec_observe(lanes[k].exec, &shadow);
    }
    hl_watch_phase(watch, HL_PHASE_STREAM);
    for (size_t i = 0; i < trace->count && !rc && !s->found && !s->ended; i++) {
        const hl_op *op = &trace->ops[i];
        for (size_t k = 0; k < count && !s->found; k++) {
            memset(&lanes[k].last, 0, sizeof lanes[k].last);
            hl_exec_prefetch(lanes[k].exec, trace->ops, trace->count, i);
            hl_watch_step(watch, (uint32_t)k, i);
            if (hl_exec_step(lanes[k].exec, op, i) == 1) shadow_finding(s, &lanes[k]);
        }
        s->ops = i + 1;
        for (size_t k = 0; k < count; k++)
            if (!lanes[k].last.skipped && lanes[k].last.error < 64) s->outcomes[op->kind] |= 1ull << lanes[k].last.error;
        if (!s->found) compare(s, lanes, count, op, i);
        bool ended_everywhere = true, ended_somewhere = false;
        for (size_t k = 0; k < count; k++) {
            ended_everywhere &= lanes[k].last.stream_ended;
            ended_somewhere |= lanes[k].last.stream_ended;
        }
        if (!s->found && !s->ended && ended_somewhere) { /* a scope operation failed everywhere */
            s->ended = true;
            s->ended_at = i;
            snprintf(s->ended_reason, sizeof s->ended_reason, "%s failed %s: the rest of the stream cannot follow",
                     hl_op_name((hl_op_kind)op->kind), ended_everywhere ? "in every backend" : "in some backends");
        }
    }
    if (watch) watch->op = s->ops;
    hl_watch_phase(watch, HL_PHASE_END);
    for (size_t k = 0; k < count && !rc; k++) {
        if (!lanes[k].exec) continue;
        if (watch) watch->lane = (uint32_t)k;
        if (!s->found && hl_exec_finish(lanes[k].exec) && hl_shadow_finding(lanes[k].shadow))
            shadow_finding(s, &lanes[k]);
    }
    if (watch) watch->published = 1; /* the answer is complete; teardown comes after it */
    for (size_t k = 0; k < count && !rc; k++) { /* teardown, lane by lane, ids in order */
        if (!lanes[k].exec) continue;
        if (watch) watch->lane = (uint32_t)k;
        uint64_t failed_id = 0;
        hl_error failed;
        hl_exec_teardown(lanes[k].exec, watch, &failed_id, &failed);
        if (failed != HL_E_OK && !s->found) {
            s->found = true;
            s->finding = (hl_finding){.rule = HL_RULE_WRONG_ERROR, .index = s->ops, .teardown = true,
                                      .teardown_id = failed_id};
            snprintf(s->finding.message, sizeof s->finding.message, "teardown: free of block id %" PRIu64 ", live, answered %s",
                     failed_id, hl_error_name(failed));
            snprintf(s->backend, sizeof s->backend, "%s", lanes[k].spec->text);
        }
    }
    for (size_t k = 0; k < count; k++) {
        if (lanes[k].exec) hl_exec_free(lanes[k].exec);
        if (lanes[k].shadow) hl_shadow_free(lanes[k].shadow);
        if (lanes[k].heap) hl_spec_destroy(&specs[k], lanes[k].heap);
    }
    hl_mem_free(lanes);
    return rc ? rc : s->found ? 1 : 0;
}

typedef struct isolated_diff {
    const hl_spec *specs;
    size_t count;
    const hl_trace *trace;
    uint64_t check_every;
} isolated_diff;

static int child_diff(void *context, hl_watch *watch, void *result)
{
    isolated_diff *d = context;
    return hl_diff_watched(d->specs, d->count, d->trace, d->check_every, result, watch);
}

int hl_diff_isolated(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                     double timeout, hl_diff_summary *out)
{
    isolated_diff d = {specs, count, trace, check_every};
    hl_diff_summary *answer = hl_mem_alloc(sizeof *answer);
    hl_isolation iso = {.timeout = timeout};
    hl_isolated how;
    int rc = hl_isolate(child_diff, &d, answer, sizeof *answer, &iso, &how);
    if (how.end == HL_ISOLATED_FAILED) { /* no child: run here */
        hl_mem_free(answer);
        return hl_diff(specs, count, trace, check_every, out);
    }
    if (how.end != HL_ISOLATED_RETURNED && how.published && answer->found) rc = 1; /* an earlier finding wins */
    else if (how.end != HL_ISOLATED_RETURNED) { /* the child died inside a backend, or hung */
        if (!how.published) {
            memset(answer, 0, sizeof *answer);
            answer->ops = how.watch.op;
        }
        uint32_t at = how.watch.lane < count ? how.watch.lane : 0;
        snprintf(answer->backend, sizeof answer->backend, "%s", specs[at].text);
        hl_isolated_finding(&how, specs[at].text, timeout, &answer->finding);
        uint64_t index = answer->finding.index;
        answer->finding.line = index < trace->count ? trace->ops[index].line : 0;
        answer->found = true;
        rc = 1;
    }
    *out = *answer;
    hl_mem_free(answer);
    return rc;
}
