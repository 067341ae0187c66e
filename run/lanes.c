/* lanes.c: the one run loop (hl_run.h). A set of lanes, each an executor over a
 * fresh instance of one backend, stepped in lockstep over one operation stream by one
 * loop that owns what every front end needs: making the instances, prefetch,
 * publishing where it is (the isolation watch, the progress count), the end of the
 * stream, the observers' final checks and the teardown. Front ends attach observers
 * to each lane's executor and, to compare lanes, a hook that runs after each
 * operation has gone through every lane (diff's comparison). One lane is a replay.
 *
 * Stepping is one operation at a time (hl_lanes_step), so a stream need not be an
 * array: the loop over a trace (hl_lanes_run) is one caller; a program's live calls
 * or a fuzzer's inputs can feed the same lanes. */
#include "hl_lanes.h"

#include <stdio.h>
#include <string.h>

struct hl_lanes {
    hl_lane *lane;
    size_t count;
    hl_watch *watch;
    bool remember; /* each lane keeps its latest result */
    bool sparse;   /* HL_HINT_SPARSE: the executors write the fuzzing pattern shape */
};

static int remember(void *context, hl_exec *exec, const hl_result *result)
{
    (void)exec;
    ((hl_lane *)context)->last = *result;
    return 0;
}

/* A fresh executor over lane l's instance, sized for ops. */
static void new_exec(hl_lanes *lanes, hl_lane *l, const hl_op *ops, size_t op_count)
{
    l->exec = hl_exec_new(l->spec->backend, l->heap, l->spec->label);
    if (lanes->sparse) hl_exec_set_pattern_shape(l->exec, HL_PATTERN_FUZZ);
    if (ops) hl_exec_expect(l->exec, ops, op_count); /* tables sized before any clock starts */
    if (lanes->remember) {
        hl_observer recorder = {"last result", l, NULL, remember, NULL, NULL, NULL};
        hl_exec_observe(l->exec, &recorder);
    }
    l->stopped = false;
    memset(&l->last, 0, sizeof l->last);
}

hl_lanes *hl_lanes_open(const hl_spec *specs, size_t count, const hl_op *ops, size_t op_count, bool remember_results,
                        uint32_t hints, hl_watch *watch, hl_diag *diag)
{
    hl_lanes *lanes = hl_mem_alloc(sizeof *lanes);
    lanes->lane = hl_mem_alloc((count ? count : 1) * sizeof *lanes->lane);
    lanes->count = count;
    lanes->watch = watch;
    lanes->remember = remember_results;
    lanes->sparse = (hints & HL_HINT_SPARSE) != 0;
    hl_watch_phase(watch, HL_PHASE_SETUP);
    for (size_t k = 0; k < count; k++) {
        hl_lane *l = &lanes->lane[k];
        if (watch) watch->lane = (uint32_t)k;
        l->spec = &specs[k];
        l->heap = hl_spec_create_hinted(&specs[k], hints, diag);
        if (!l->heap) {
            hl_lanes_close(lanes);
            return NULL;
        }
        new_exec(lanes, l, ops, op_count);
    }
    return lanes;
}

void hl_lanes_renew(hl_lanes *lanes, const hl_op *ops, size_t op_count)
{
    for (size_t k = 0; k < lanes->count; k++) {
        hl_lane *l = &lanes->lane[k];
        hl_exec_reset(l->exec);
        if (ops) hl_exec_expect(l->exec, ops, op_count);
        l->stopped = false;
        memset(&l->last, 0, sizeof l->last);
    }
}

size_t hl_lanes_count(const hl_lanes *lanes) { return lanes->count; }
hl_lane *hl_lanes_at(hl_lanes *lanes, size_t k) { return &lanes->lane[k]; }

/* Steps window[local], the stream's operation index, through every lane. */
static int step(hl_lanes *lanes, const hl_op *window, size_t count, size_t local, uint64_t index,
                size_t first_lane, size_t *lane_stopped)
{
    const hl_op *op = &window[local];
    bool ended = false;
    for (size_t k = first_lane; k < lanes->count; k++) {
        hl_lane *l = &lanes->lane[k];
        if (l->stopped) continue;
        memset(&l->last, 0, sizeof l->last);
        hl_exec_prefetch(l->exec, window, count, local);
        hl_watch_step(lanes->watch, (uint32_t)k, index);
        int rc = hl_exec_step(l->exec, op, index);
        if (rc == 1) {
            *lane_stopped = k;
            return 1;
        }
        ended |= rc == 2;
    }
    return ended ? 2 : 0;
}

int hl_lanes_step(hl_lanes *lanes, const hl_op *ops, size_t op_count, uint64_t index, size_t *lane_stopped)
{
    return step(lanes, ops, op_count, (size_t)index, index, 0, lane_stopped);
}

int hl_lanes_step_from(hl_lanes *lanes, const hl_op *window, size_t count, uint64_t index, size_t first_lane,
                       size_t *lane_stopped)
{
    return step(lanes, window, count, 0, index, first_lane, lane_stopped);
}

int hl_lanes_run_window(hl_lanes *lanes, const hl_op *window, size_t count, size_t steps, uint64_t first,
                        uint64_t total, const hl_lanes_hook *hook, const hl_progress *progress, uint64_t *at,
                        size_t *lane_stopped)
{
    hl_watch_phase(lanes->watch, HL_PHASE_STREAM);
    int rc = 0;
    for (size_t i = 0; i < steps && !rc; i++) {
        uint64_t index = first + i;
        *at = index;
        rc = step(lanes, window, count, i, index, 0, lane_stopped);
        if (rc != 1 && hook && hook->after) {
            int verdict = hook->after(hook->context, lanes, &window[i], index);
            if (verdict) rc = verdict;
        }
        if (progress && progress->count) *progress->count = index + 1;
        if (progress && progress->report && (index & 0xffff) == 0xffff)
            progress->report(progress->context, index + 1, total);
    }
    return rc;
}

int hl_lanes_run(hl_lanes *lanes, const hl_op *ops, size_t op_count, const hl_lanes_hook *hook,
                 const hl_progress *progress, uint64_t *at, size_t *lane_stopped)
{
    *at = 0;
    return hl_lanes_run_window(lanes, ops, op_count, op_count, 0, op_count, hook, progress, at, lane_stopped);
}

int hl_lanes_finish(hl_lanes *lanes, uint64_t ops_done, size_t *lane_found)
{
    if (lanes->watch) lanes->watch->op = ops_done;
    hl_watch_phase(lanes->watch, HL_PHASE_END);
    int found = 0;
    for (size_t k = 0; k < lanes->count; k++) {
        if (lanes->lane[k].stopped) continue;
        if (lanes->watch) lanes->watch->lane = (uint32_t)k;
        if (hl_exec_finish(lanes->lane[k].exec) && !found) {
            found = 1;
            *lane_found = k;
        }
    }
    return found;
}

bool hl_lanes_teardown(hl_lanes *lanes, size_t *lane_failed, uint64_t *failed_id, hl_error *failed)
{
    if (lanes->watch) lanes->watch->published = 1; /* the answer is complete; teardown comes after it */
    bool any = false;
    for (size_t k = 0; k < lanes->count; k++) {
        if (lanes->watch) lanes->watch->lane = (uint32_t)k;
        uint64_t id = 0;
        hl_error e;
        hl_exec_teardown(lanes->lane[k].exec, lanes->watch, &id, &e);
        if (e != HL_E_OK && !any) {
            any = true;
            *lane_failed = k;
            *failed_id = id;
            *failed = e;
        }
    }
    return any;
}

void hl_lanes_close(hl_lanes *lanes)
{
    for (size_t k = 0; k < lanes->count; k++) {
        hl_lane *l = &lanes->lane[k];
        if (l->exec) hl_exec_free(l->exec);
        if (l->heap) hl_spec_destroy(l->spec, l->heap);
    }
    hl_mem_free(lanes->lane);
    hl_mem_free(lanes);
}
