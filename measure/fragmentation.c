/* fragmentation.c: the observer behind a run's fragmentation figures, after
 * Johnstone and Wilson, "The Memory Fragmentation Problem: Solved?" (ISMM 1998).
 *
 * Time is the operation index. Footprint is what the backend's stats report
 * (footprint: bytes it holds from its source); live bytes are the requested sizes
 * of the live blocks (the block map's count, exact at every operation). Footprint
 * costs a stats call, so it is read
 *   - after every operation that can grow it: alloc, realloc, promote, scope_enter
 *     (a free, a scope exit or free_all only give memory back), so the peak
 *     footprint is the largest reading there is, and the footprint at the peak of
 *     live bytes is read at that very operation (live bytes grow only there too);
 *   - at the timeline points: one operation drawn at random in every window of
 *     `every` operations (`every` chosen from the trace's length so a run has at most
 *     HL_TIMELINE_POINTS - 1 of them), plus one at the end. Drawn, not fixed, so a
 *     trace that repeats with the window's period is not seen at one phase only.
 * The four measures, as ratios (1.0: no fragmentation; J&W print (ratio - 1) in %):
 *   1 time_average         mean footprint / mean live bytes over the timeline points
 *                          (an estimate: its resolution is the window)
 *   2 at_peak_live         footprint / live bytes at the peak of live bytes (exact)
 *   3 at_peak_footprint    footprint / live bytes at the peak of the footprint (a
 *                          footprint that stays at its peak is a span of time, not a
 *                          point: the reading in it with the most live bytes counts);
 *                          not applicable (at_peak_footprint_na) when nothing is live
 *                          then, never 0
 *   4 peak_to_peak         peak footprint / peak live bytes, each at its own moment
 *                          (exact: the footprint peak also takes the backend's own
 *                          stats.peak_footprint)
 * so 2 <= 4 <= 3 always. Internal fragmentation: usable / requested bytes of the live
 * blocks, averaged over the timeline points and at the peak of live bytes. The same
 * reads give the run's peak and final footprint; the peaks of live bytes and blocks
 * are exact. */
#include "hl_measure.h"

#include <string.h>

static uint64_t footprint(hl_exec *exec, hl_fragmentation *f)
{
    hl_stats stats;
    memset(&stats, 0, sizeof stats);
    hl_exec_backend(exec)->stats(hl_exec_heap(exec), &stats);
    f->footprint_reads++;
    if (stats.peak_footprint > f->backend_peak_footprint) f->backend_peak_footprint = stats.peak_footprint;
    return stats.footprint;
}

/* One footprint read at operation `op` with `live` bytes live: feeds measure 3. */
static uint64_t read_at(hl_exec *exec, hl_fragmentation *f, uint64_t live)
{
    uint64_t foot = footprint(exec, f);
    if (foot > f->footprint_at_peak_footprint || f->footprint_reads == 1 ||
        (foot == f->footprint_at_peak_footprint && live > f->live_at_peak_footprint)) {
        f->footprint_at_peak_footprint = foot;
        f->live_at_peak_footprint = live;
    }
    return foot;
}

static void add_point(hl_exec *exec, hl_fragmentation *f, uint64_t op)
{
    hl_blockmap *blocks = hl_exec_blocks(exec);
    uint64_t live = hl_blockmap_live_bytes(blocks);
    uint64_t foot = read_at(exec, f, live);
    f->sum_footprint += (double)foot;
    f->sum_live += (double)live;
    f->sum_usable += (double)hl_blockmap_indexed_usable(blocks);
    f->sum_requested += (double)live;
    if (f->points < HL_TIMELINE_POINTS) {
        hl_timeline_point *p = &f->timeline[f->points++];
        p->op = op;
        p->live_bytes = live;
        p->footprint_bytes = foot;
    }
}

/* The next timeline point's offset in its window: a draw in [0, every) (xorshift, a
 * fixed seed: the same run gives the same points). */
static uint64_t draw(hl_fragmentation *f)
{
    f->rng ^= f->rng << 13, f->rng ^= f->rng >> 7, f->rng ^= f->rng << 17;
    return f->rng % f->every;
}

static bool can_grow(const hl_result *result)
{
    if (result->skipped || !result->op) return false;
    switch ((hl_op_kind)result->op->kind) {
    case HL_OP_ALLOC:
    case HL_OP_REALLOC:
    case HL_OP_PROMOTE:
    case HL_OP_SCOPE_ENTER: return true;
    default: return false;
    }
}

static int after(void *context, hl_exec *exec, const hl_result *result)
{
    hl_fragmentation *f = context;
    hl_blockmap *blocks = hl_exec_blocks(exec);
    uint64_t live = hl_blockmap_live_bytes(blocks), count = hl_blockmap_live_blocks(blocks);
    if (count > f->peak_live_blocks) f->peak_live_blocks = count;
    if (can_grow(result) || live > f->peak_live_bytes) {
        uint64_t foot = read_at(exec, f, live);
        if (live > f->peak_live_bytes || f->footprint_reads == 1) {
            f->peak_live_bytes = live;
            f->live_at_peak_live = live;
            f->footprint_at_peak_live = foot;
            f->usable_at_peak_live = hl_blockmap_indexed_usable(blocks);
        }
    }
    uint64_t in_window = result->index % f->every;
    if (in_window == 0) f->point_at = draw(f);
    if (in_window == f->point_at) add_point(exec, f, result->index + 1);
    return 0;
}

static double ratio(double over, double under) { return under > 0 ? over / under : 0.0; }

static int finish(void *context, hl_exec *exec)
{
    hl_fragmentation *f = context;
    uint64_t ops = hl_exec_counts_of(exec)->ops;
    if (f->points == 0 || f->timeline[f->points - 1].op != ops) {
        if (f->points == HL_TIMELINE_POINTS) f->points--; /* the end point replaces the last */
        add_point(exec, f, ops);
    }
    uint64_t peak_footprint = f->footprint_at_peak_footprint > f->backend_peak_footprint
                                  ? f->footprint_at_peak_footprint
                                  : f->backend_peak_footprint;
    f->peak_footprint_bytes = peak_footprint;
    f->final_footprint_bytes = f->timeline[f->points - 1].footprint_bytes; /* read at the end */
    f->time_average = ratio(f->sum_footprint, f->sum_live);
    f->at_peak_live = ratio((double)f->footprint_at_peak_live, (double)f->live_at_peak_live);
    f->at_peak_footprint = ratio((double)f->footprint_at_peak_footprint, (double)f->live_at_peak_footprint);
    f->at_peak_footprint_na = f->live_at_peak_footprint == 0;
    f->peak_to_peak = ratio((double)peak_footprint, (double)f->peak_live_bytes);
    f->internal_average = ratio(f->sum_usable, f->sum_requested);
    f->internal_at_peak_live = ratio((double)f->usable_at_peak_live, (double)f->live_at_peak_live);
    return 0;
}

uint64_t hl_fragmentation_period(uint64_t ops)
{
    uint64_t points = HL_TIMELINE_POINTS - 1; /* the end point is the last */
    return ops <= points ? 1 : (ops + points - 1) / points;
}

hl_observer hl_fragmentation_observer(hl_fragmentation *f, uint64_t ops)
{
    memset(f, 0, sizeof *f);
    f->on = true;
    f->every = hl_fragmentation_period(ops);
    f->rng = 0x9E3779B97F4A7C15ull;
    hl_observer o = {"fragmentation", f, NULL, after, finish, NULL, NULL};
    return o;
}
