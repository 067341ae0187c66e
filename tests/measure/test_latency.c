/* test_latency.c: the latency mode's observer puts each timed call in its kind's
 * histogram, less the timer's own cost: a backend whose every 50th alloc spins for
 * 50 us shows it at p99 and not at p50; frees are counted apart; the overhead
 * subtracted is what an empty timed pair costs. */
#include "hl_check.h"
#include "backends.h"
#include "unit.h"
#include "unit_op.h"

static hl_backend slow;
static unsigned allocs;

static void spin_ns(uint64_t ns)
{
    uint64_t until = hl_clock_now_ns() + ns;
    while (hl_clock_now_ns() < until) {
    }
}

static hl_addr slow_alloc(hl_heap *heap, hl_layout layout, hl_caps caps, hl_error *error)
{
    if (++allocs % 50 == 0) spin_ns(50000);
    return hl_backend_libc()->alloc(heap, layout, caps, error);
}

static hl_op ops[4000];

TEST(slow_calls_show_in_the_tail)
{
    slow = *hl_backend_libc();
    slow.alloc = slow_alloc;
    size_t n = 0;
    for (uint64_t id = 1; id <= 2000; id++) {
        ops[n++] = unit_op(HL_OP_ALLOC, id, 64);
        ops[n++] = unit_op(HL_OP_FREE, id, 0);
    }
    hl_config config;
    memset(&config, 0, sizeof config);
    hl_heap *heap = NULL;
    CHECK_EQ(slow.create(&config, &heap), HL_E_OK);
    hl_exec *exec = hl_exec_new(&slow, heap, NULL);
    hl_exec_time_calls(exec, HL_TIMING_FENCED);
    static hl_latency lat;
    hl_latency_init(&lat);
    CHECK(lat.on);
    CHECK(lat.overhead.min_ticks <= lat.overhead.median_ticks);
    CHECK(lat.overhead.median_ticks <= lat.overhead.p99_ticks);
    CHECK(lat.overhead.step_ticks >= 1);
    hl_observer observer = hl_latency_observer(&lat);
    hl_exec_observe(exec, &observer);
    for (size_t i = 0; i < n; i++) CHECK_EQ(hl_exec_step(exec, &ops[i], i), 0);
    hl_exec_finish(exec);
    const hl_histogram *alloc = &lat.kind[hl_latency_slot(HL_OP_ALLOC)];
    const hl_histogram *freed = &lat.kind[hl_latency_slot(HL_OP_FREE)];
    CHECK_EQ(alloc->count, 2000);
    CHECK_EQ(freed->count, 2000);
    CHECK_EQ(lat.kind[hl_latency_slot(HL_OP_REALLOC)].count, 0);
    CHECK(hl_histogram_percentile(alloc, 50) < 20000);  /* a plain malloc of 64 bytes */
    CHECK(hl_histogram_percentile(alloc, 99) >= 49000); /* 2% of them spin 50 us */
    CHECK(alloc->max >= 49000);
    CHECK(hl_histogram_percentile(freed, 50) < 20000);
    CHECK(hl_latency_slot(HL_OP_TOUCH) < 0);
    CHECK_STR(hl_latency_kind_name(hl_latency_slot(HL_OP_FREE_ALL)), "free_all");
    hl_exec_free(exec);
    slow.destroy(heap);
}

TEST(overhead_is_what_an_empty_pair_costs)
{
    hl_clock_overhead o = hl_clock_measure_overhead();
    double ns = (double)o.median_ticks * hl_clock_ns_per_tick();
    CHECK(ns > 0 && ns < 2000); /* a few ns on bare metal, tens under a hypervisor */
}

int main(void)
{
    RUN(slow_calls_show_in_the_tail);
    RUN(overhead_is_what_an_empty_pair_costs);
    return unit_summary();
}
