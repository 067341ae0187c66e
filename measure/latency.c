/* latency.c: the latency mode's observer. Each backend call the executor timed
 * (fenced tick reads, hl_exec_time_calls HL_TIMING_FENCED) goes into its kind's
 * histogram in nanoseconds, less the median cost of an empty timed pair measured
 * when the observer is made. A call cheaper than that counts as 0 ns. Skipped
 * operations are not counted; failed calls are (a failing call takes time too). */
#include "hl_measure.h"

#include <string.h>

hl_clock_overhead hl_clock_measure_overhead(void)
{
    enum { PAIRS = 4095 };
    static hl_histogram empty; /* no allocation: this runs beside the allocator timed */
    hl_histogram_reset(&empty);
    for (int warm = 0; warm < 64; warm++) (void)(hl_clock_ticks_end() - hl_clock_ticks_begin());
    for (int i = 0; i < PAIRS; i++) {
        uint64_t t0 = hl_clock_ticks_begin();
        hl_histogram_record(&empty, hl_clock_ticks_end() - t0);
    }
    hl_clock_overhead o;
    o.min_ticks = empty.min;
    o.median_ticks = hl_histogram_percentile(&empty, 50);
    o.p99_ticks = hl_histogram_percentile(&empty, 99);
    /* the step: the smallest gap between two values seen, where values are exact */
    o.step_ticks = 1;
    uint64_t previous = UINT64_MAX, gap = UINT64_MAX;
    for (size_t i = 0; i < 2 * ((size_t)1 << HL_HIST_SUB_BITS); i++) {
        if (!empty.bucket[i]) continue;
        if (previous != UINT64_MAX && i - previous < gap) gap = i - previous;
        previous = i;
    }
    if (gap != UINT64_MAX) o.step_ticks = gap;
    return o;
}

static const hl_op_kind timed_kinds[HL_LATENCY_KINDS] = {
#define HL_LATENCY_KIND(name) HL_OP_##name,
    HL_LATENCY_TABLE(HL_LATENCY_KIND)
#undef HL_LATENCY_KIND
};

int hl_latency_slot(hl_op_kind kind)
{
    for (int k = 0; k < HL_LATENCY_KINDS; k++)
        if (timed_kinds[k] == kind) return k;
    return -1;
}

const char *hl_latency_kind_name(int slot)
{
    return slot >= 0 && slot < HL_LATENCY_KINDS ? hl_op_name(timed_kinds[slot]) : "?";
}

void hl_latency_init(hl_latency *latency)
{
    memset(latency, 0, sizeof *latency);
    latency->on = true;
    latency->ns_per_tick = hl_clock_ns_per_tick();
    latency->overhead = hl_clock_measure_overhead();
    for (int k = 0; k < HL_LATENCY_KINDS; k++) hl_histogram_reset(&latency->kind[k]);
}

static int after(void *context, hl_exec *exec, const hl_result *result)
{
    (void)exec;
    hl_latency *latency = context;
    if (result->skipped) return 0;
    int slot = hl_latency_slot((hl_op_kind)result->op->kind);
    if (slot < 0) return 0;
    uint64_t ticks = result->elapsed_ticks;
    ticks = ticks > latency->overhead.median_ticks ? ticks - latency->overhead.median_ticks : 0;
    hl_histogram_record(&latency->kind[slot], (uint64_t)((double)ticks * latency->ns_per_tick + 0.5));
    return 0;
}

hl_observer hl_latency_observer(hl_latency *latency)
{
    hl_observer o = {"latency", latency, NULL, after, NULL, NULL, NULL};
    return o;
}
