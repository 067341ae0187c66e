/* clock.c: a cheap tick counter for timing single operations.
 *
 * On x86-64 the ticks are the invariant time-stamp counter (rdtsc: about 11 ns a
 * read on these machines, against about 27 ns for clock_gettime through the vDSO
 * over kvm-clock); elsewhere they are CLOCK_MONOTONIC nanoseconds. The tick rate
 * is calibrated once per process against CLOCK_MONOTONIC over CALIBRATE_NS. */
#include "hl_core.h"

#include <time.h>

#define CALIBRATE_NS 5000000u /* 5 ms: the rate to well under 0.1% */

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t hl_clock_now_ns(void) { return monotonic_ns(); }

#if defined(__x86_64__)
#include <x86intrin.h>

uint64_t hl_clock_ticks(void) { return __rdtsc(); }

double hl_clock_ns_per_tick(void)
{
    static double rate; /* computed once; a race only computes it twice */
    if (rate > 0) return rate;
    uint64_t ns0 = monotonic_ns(), t0 = __rdtsc(), ns1;
    do ns1 = monotonic_ns();
    while (ns1 - ns0 < CALIBRATE_NS);
    uint64_t t1 = __rdtsc();
    rate = t1 > t0 ? (double)(ns1 - ns0) / (double)(t1 - t0) : 1.0;
    return rate;
}

/* The latency mode's reads: lfence keeps the read from starting before earlier
 * instructions finish; rdtscp waits for the timed call to finish and the lfence
 * after it keeps later instructions out (Intel's "How to Benchmark Code Execution
 * Times", 2010). */
uint64_t hl_clock_ticks_begin(void)
{
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}

uint64_t hl_clock_ticks_end(void)
{
    unsigned aux;
    uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
}
#else
uint64_t hl_clock_ticks(void) { return monotonic_ns(); }
uint64_t hl_clock_ticks_begin(void) { return monotonic_ns(); }
uint64_t hl_clock_ticks_end(void) { return monotonic_ns(); }

double hl_clock_ns_per_tick(void) { return 1.0; }
#endif
