/* test_fragmentation.c: the fragmentation observer's four Johnstone-Wilson measures,
 * internal fragmentation and timeline, on a backend whose footprint and usable sizes
 * are scripted (libc underneath, stats and usable_size replaced), against the same
 * figures computed here from the script. */
#include "hl_check.h"
#include "backends.h"
#include "unit.h"
#include "unit_op.h"

#include <math.h>

#define SLACK 24 /* usable = requested + SLACK */

static hl_backend scripted;
static uint64_t live, max_live, frees;

static uint64_t footprint_now(void) { return 2 * max_live + frees * 100; }

static hl_addr scripted_alloc(hl_heap *heap, hl_layout layout, hl_caps caps, hl_error *error)
{
    hl_addr a = hl_backend_libc()->alloc(heap, layout, caps, error);
    if (a) live += layout.size, max_live = live > max_live ? live : max_live;
    return a;
}

static hl_error scripted_free(hl_heap *heap, hl_addr block, hl_layout layout)
{
    hl_error e = hl_backend_libc()->free(heap, block, layout);
    if (e == HL_E_OK && block) live -= layout.size, frees++;
    return e;
}

static size_t scripted_usable(hl_heap *heap, hl_addr block, hl_layout layout)
{
    (void)heap, (void)block;
    return layout.size + SLACK;
}

static void scripted_stats(const hl_heap *heap, hl_stats *stats)
{
    hl_backend_libc()->stats(heap, stats);
    stats->footprint = footprint_now();
    stats->peak_footprint = footprint_now(); /* it never shrinks here */
}

static hl_op ops[240];

TEST(measures_match_the_script)
{
    scripted = *hl_backend_libc();
    scripted.alloc = scripted_alloc;
    scripted.free = scripted_free;
    scripted.usable_size = scripted_usable;
    scripted.stats = scripted_stats;
    size_t n = 0;
    for (uint64_t id = 1; id <= 100; id++) ops[n++] = unit_op(HL_OP_ALLOC, id, 1000);
    for (uint64_t id = 1; id <= 90; id++) ops[n++] = unit_op(HL_OP_FREE, id, 0);
    for (uint64_t id = 101; id <= 150; id++) ops[n++] = unit_op(HL_OP_ALLOC, id, 500);

    hl_config config;
    memset(&config, 0, sizeof config);
    hl_heap *heap = NULL;
    CHECK_EQ(scripted.create(&config, &heap), HL_E_OK);
    hl_exec *exec = hl_exec_new(&scripted, heap, NULL);
    static hl_fragmentation f;
    hl_observer observer = hl_fragmentation_observer(&f, n);
    hl_exec_observe(exec, &observer);
    /* the script's own figures, operation by operation */
    double sum_foot = 0, sum_live = 0, sum_usable = 0;
    uint64_t blocks = 0, peak_foot = 0, live_at_peak_foot = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(hl_exec_step(exec, &ops[i], i), 0);
        blocks += ops[i].kind == HL_OP_ALLOC ? 1 : -1;
        sum_foot += (double)footprint_now();
        sum_live += (double)live;
        sum_usable += (double)(live + blocks * SLACK);
        if (footprint_now() > peak_foot || (footprint_now() == peak_foot && live > live_at_peak_foot))
            peak_foot = footprint_now(), live_at_peak_foot = live;
    }
    CHECK_EQ(hl_exec_finish(exec), 0);
    CHECK_EQ(f.every, 1);
    CHECK_EQ(f.points, n); /* one per operation; the end is the last */
    CHECK_EQ(f.timeline[99].op, 100);
    CHECK_EQ(f.timeline[99].live_bytes, 100000);
    CHECK_EQ(f.timeline[99].footprint_bytes, 200000);
    CHECK_EQ(f.timeline[n - 1].live_bytes, 10 * 1000 + 50 * 500);
    CHECK_EQ(f.peak_live_bytes, 100000);
    CHECK(fabs(f.time_average - sum_foot / sum_live) < 1e-9);
    CHECK(fabs(f.at_peak_live - 2.0) < 1e-9);
    CHECK_EQ(peak_foot, 209000);
    CHECK_EQ(live_at_peak_foot, 35000); /* the footprint's peak lasts from op 190 to the end */
    CHECK(fabs(f.at_peak_footprint - (double)peak_foot / (double)live_at_peak_foot) < 1e-9); /* 5.97 */
    CHECK(fabs(f.peak_to_peak - 2.09) < 1e-9);
    CHECK(fabs(f.internal_at_peak_live - 1.024) < 1e-9);
    CHECK(fabs(f.internal_average - sum_usable / sum_live) < 1e-9);
    hl_exec_free(exec);
    scripted.destroy(heap);
}

TEST(period_keeps_a_few_thousand_points)
{
    CHECK_EQ(hl_fragmentation_period(10), 1);
    CHECK_EQ(hl_fragmentation_period(HL_TIMELINE_POINTS - 1), 1);
    for (uint64_t length = 5000; length < 100000000; length = length * 7 + 3) {
        uint64_t every = hl_fragmentation_period(length);
        CHECK(length / every <= HL_TIMELINE_POINTS - 1);
        CHECK(length / every >= (HL_TIMELINE_POINTS - 1) / 2);
    }
}

int main(void)
{
    RUN(measures_match_the_script);
    RUN(period_keeps_a_few_thousand_points);
    return unit_summary();
}
