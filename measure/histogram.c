/* histogram.c: a log-bucketed histogram in the manner of HdrHistogram (Gil Tene):
 * fixed memory, no allocation, a record is an index computation and an increment.
 *
 * Values below 2 * HL_HIST_SUB are counted exactly. Above, each power of two
 * [2^e, 2^(e+1)) is cut into HL_HIST_SUB equal buckets of width 2^(e - SUB_BITS),
 * so a bucket is at most 1/64 of its values wide (under 0.8% from its middle to
 * either end). Bucket index of v with e = floor(log2 v) >= SUB_BITS:
 * (e - SUB_BITS) * SUB + (v >> (e - SUB_BITS)); the second term lies in
 * [SUB, 2 * SUB), so consecutive powers follow each other without a gap. */
#include "hl_measure.h"

#include <string.h>

#define SUB_BITS HL_HIST_SUB_BITS
#define SUB (1u << SUB_BITS)
#define LIMIT (UINT64_C(1) << HL_HIST_MAX_BITS)

static size_t index_of(uint64_t v)
{
    if (v >= LIMIT) return HL_HIST_BUCKETS - 1;
    if (v < 2 * SUB) return (size_t)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = e - SUB_BITS;
    return (size_t)shift * SUB + (size_t)(v >> shift);
}

uint64_t hl_histogram_bucket_low(size_t i)
{
    if (i < 2 * SUB) return i;
    size_t shift = i / SUB - 1;
    return (uint64_t)(i - shift * SUB) << shift;
}

uint64_t hl_histogram_bucket_high(size_t i)
{
    if (i < 2 * SUB) return i;
    size_t shift = i / SUB - 1;
    return hl_histogram_bucket_low(i) + ((UINT64_C(1) << shift) - 1);
}

void hl_histogram_reset(hl_histogram *h)
{
    memset(h, 0, sizeof *h);
}

void hl_histogram_record(hl_histogram *h, uint64_t value)
{
    if (h->count == 0 || value < h->min) h->min = value;
    if (value > h->max) h->max = value;
    h->count++;
    h->sum += value;
    h->bucket[index_of(value)]++;
}

double hl_histogram_mean(const hl_histogram *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}

uint64_t hl_histogram_percentile(const hl_histogram *h, double percent)
{
    if (h->count == 0) return 0;
    if (percent >= 100.0) return h->max;
    if (percent < 0.0) percent = 0.0;
    /* the rank-th smallest value, rank = ceil(percent% of count), at least 1 */
    double want = percent / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want || rank == 0) rank++;
    uint64_t seen = 0;
    for (size_t i = 0; i < HL_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            /* every value in it is <= v; the last bucket holds everything above */
            uint64_t v = i == HL_HIST_BUCKETS - 1 ? h->max : hl_histogram_bucket_high(i);
            if (v > h->max) v = h->max;
            if (v < h->min) v = h->min;
            return v;
        }
    }
    return h->max;
}
