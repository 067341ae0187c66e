/* figures.c: the observer that collects a run's figures for the results document:
 * peak live bytes and blocks (from the block map) and the footprint, sampled from the
 * backend's stats every FIGURES_SAMPLE operations and at the end. */
#include "hl_harness.h"

#include <string.h>

#define FIGURES_SAMPLE 64

typedef struct figures_state {
    hl_figures *figures;
    unsigned countdown;
} figures_state;

static void sample_footprint(hl_figures *figures, hl_exec *exec)
{
    hl_stats stats;
    memset(&stats, 0, sizeof stats);
    hl_exec_backend(exec)->stats(hl_exec_heap(exec), &stats);
    uint64_t peak = stats.peak_footprint > stats.footprint ? stats.peak_footprint : stats.footprint;
    if (peak > figures->peak_footprint_bytes) figures->peak_footprint_bytes = peak;
    figures->final_footprint_bytes = stats.footprint;
}

static int after(void *context, hl_exec *exec, const hl_result *result)
{
    (void)result;
    hl_figures *figures = context;
    hl_blockmap *blocks = hl_exec_blocks(exec);
    uint64_t bytes = hl_blockmap_live_bytes(blocks), count = hl_blockmap_live_blocks(blocks);
    if (bytes > figures->peak_live_bytes) figures->peak_live_bytes = bytes;
    if (count > figures->peak_live_blocks) figures->peak_live_blocks = count;
    if ((hl_exec_counts_of(exec)->ops & (FIGURES_SAMPLE - 1)) == 0) sample_footprint(figures, exec);
    return 0;
}

static int finish(void *context, hl_exec *exec)
{
    sample_footprint(context, exec);
    return 0;
}

hl_observer hl_figures_observer(hl_figures *figures)
{
    hl_observer observer = {"figures", figures, NULL, after, finish};
    return observer;
}
