/* hl_lanes.h: the run layer's one run loop (lanes.c), beside hl_run.h: a set of lanes,
 * an executor over an instance of one backend each, stepped in lockstep over one
 * operation stream. replay is one lane; diff and the fuzzer's diff target are several.
 * The front ends that step lanes (check/) include it. */
#ifndef HL_LANES_H
#define HL_LANES_H

#include "hl_run.h"

/* ================================================================ lanes: the one run loop */

/* One lane: an executor over a fresh instance of one backend (lanes.c). */
typedef struct hl_lane {
    const hl_spec *spec;
    hl_heap *heap;
    hl_exec *exec;
    hl_result last; /* the latest operation's result, when the lanes remember them */
    bool stopped;   /* set by a front end: no longer stepped or finished (torn down) */
} hl_lane;

typedef struct hl_lanes hl_lanes;

/* A comparison over every lane after each operation (diff's): returns 0 to go on,
 * 1 a finding (the stream stops), 2 the stream ends here without one. */
typedef struct hl_lanes_hook {
    int (*after)(void *context, hl_lanes *lanes, const hl_op *op, uint64_t index);
    void *context;
} hl_lanes_hook;

/* Makes one lane per spec: an instance (phase SETUP on watch, which may be NULL,
 * naming the lane being made; told hints, HL_HINT_*: the run's promises) and an
 * executor sized for ops (a hint; NULL, 0 is fine; with HL_HINT_SPARSE the executors
 * write HL_PATTERN_FUZZ, the sparse pattern the hint promises). With remember_results each lane
 * keeps its latest result in last (the first observer). Returns the lanes, or NULL
 * with diag when an instance cannot be made (the lanes made so far are closed).
 * Front ends attach their observers next. */
hl_lanes *hl_lanes_open(const hl_spec *specs, size_t count, const hl_op *ops, size_t op_count, bool remember_results,
                        uint32_t hints, hl_watch *watch, hl_diag *diag);
/* The lanes for another stream on the same instances (persistent fuzzing): each
 * lane's executor is reset (hl_exec_reset: an empty block map, sized for ops; its
 * observers stay, each its owner's to reset) and no lane is stopped; the instances
 * are kept as they are. Precondition: each instance is as new (the stream before
 * ended with a free_all that every lane served), or the caller wants what it kept. */
void hl_lanes_renew(hl_lanes *lanes, const hl_op *ops, size_t op_count);
size_t hl_lanes_count(const hl_lanes *lanes);
hl_lane *hl_lanes_at(hl_lanes *lanes, size_t k);
/* Steps ops[index] through every lane in lane order, publishing each (lane, index)
 * on the watch before the backend is called. Returns 0, 1 when a lane's observer
 * stopped the stream (*lane_stopped; later lanes were not stepped), or 2 when the
 * operation ended the stream in some lane (a scope operation that failed). */
int hl_lanes_step(hl_lanes *lanes, const hl_op *ops, size_t op_count, uint64_t index, size_t *lane_stopped);
/* Steps window[0], the stream's operation index, through lanes first_lane.. only: the
 * rest of an operation after a lane stopped on it and was set aside (stopped). */
int hl_lanes_step_from(hl_lanes *lanes, const hl_op *window, size_t count, uint64_t index, size_t first_lane,
                       size_t *lane_stopped);
/* The loop over a whole stream: steps each operation (hl_lanes_step), then the hook
 * (may be NULL) unless a lane stopped; publishes progress. Returns 0 when every
 * operation ran, else the first non-zero answer (1 stop, 2 end) with *at its
 * operation index (*lane_stopped for a lane's stop). */
int hl_lanes_run(hl_lanes *lanes, const hl_op *ops, size_t op_count, const hl_lanes_hook *hook,
                 const hl_progress *progress, uint64_t *at, size_t *lane_stopped);
/* The same loop over a piece of a stream read a window at a time: steps window[0,
 * steps) as the stream's operations first, first + 1, ...; window[steps, count) are
 * the operations that follow (read ahead for prefetch only; steps <= count). progress
 * reports against total, the stream's length. Returns as hl_lanes_run, *at a stream
 * index. */
int hl_lanes_run_window(hl_lanes *lanes, const hl_op *window, size_t count, size_t steps, uint64_t first,
                        uint64_t total, const hl_lanes_hook *hook, const hl_progress *progress, uint64_t *at,
                        size_t *lane_stopped);
/* The end of the stream: each lane's finish hooks in lane order (phase END, op
 * ops_done). Returns 1 with *lane_found the first lane whose observers found
 * something, else 0. */
int hl_lanes_finish(hl_lanes *lanes, uint64_t ops_done, size_t *lane_found);
/* Teardown, part of every run, after the answer is complete (watch->published):
 * each lane frees its leftover blocks in id order (hl_exec_teardown). Returns true
 * with the first failed free (lane, block id, error). */
bool hl_lanes_teardown(hl_lanes *lanes, size_t *lane_failed, uint64_t *failed_id, hl_error *failed);
/* Frees the executors and destroys the instances. */
void hl_lanes_close(hl_lanes *lanes);

#endif /* HL_LANES_H */
