/* test_clock.c: the tick counter converts to the same wall time CLOCK_MONOTONIC
 * measures over the same interval (both read around one sleep, so a noisy machine
 * moves both alike). */
#include "hl_check.h"
#include "unit.h"

#include <time.h>

TEST(ticks_convert_to_wall_time)
{
    double rate = hl_clock_ns_per_tick();
    CHECK(rate > 0);
    uint64_t ns0 = hl_clock_now_ns(), t0 = hl_clock_ticks();
    struct timespec pause = {0, 30 * 1000 * 1000};
    nanosleep(&pause, NULL);
    uint64_t t1 = hl_clock_ticks(), ns1 = hl_clock_now_ns();
    double by_ticks = (double)(t1 - t0) * rate, by_clock = (double)(ns1 - ns0);
    CHECK(by_clock >= 30e6);
    CHECK(by_ticks > by_clock * 0.95 && by_ticks < by_clock * 1.05);
    CHECK(hl_clock_ns_per_tick() == rate); /* calibrated once */
}

int main(void)
{
    RUN(ticks_convert_to_wall_time);
    return unit_summary();
}
