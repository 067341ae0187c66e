/* test_histogram.c: the log-bucketed histogram keeps small values exactly, every
 * value within its 1/64 bucket, percentiles never below the truth and at most a
 * bucket above, and values past its range in the last bucket with max exact. */
#include "hl_check.h"
#include "unit.h"

static hl_histogram h;

TEST(buckets_tile_the_range)
{
    for (size_t i = 0; i + 1 < HL_HIST_BUCKETS; i++) {
        CHECK(hl_histogram_bucket_low(i) <= hl_histogram_bucket_high(i));
        if (hl_histogram_bucket_high(i) + 1 != hl_histogram_bucket_low(i + 1)) {
            CHECK_EQ(hl_histogram_bucket_high(i) + 1, hl_histogram_bucket_low(i + 1));
            break;
        }
        uint64_t low = hl_histogram_bucket_low(i), width = hl_histogram_bucket_high(i) - low + 1;
        CHECK(low < 128 ? width == 1 : width * 64 <= low); /* at most 1/64 of its values */
    }
    CHECK_EQ(hl_histogram_bucket_high(HL_HIST_BUCKETS - 1), (UINT64_C(1) << HL_HIST_MAX_BITS) - 1);
}

TEST(small_values_are_exact)
{
    hl_histogram_reset(&h);
    for (uint64_t v = 0; v < 100; v++) hl_histogram_record(&h, v);
    CHECK_EQ(h.count, 100);
    CHECK_EQ(h.min, 0);
    CHECK_EQ(h.max, 99);
    CHECK_EQ(hl_histogram_percentile(&h, 50), 49); /* the 50th of 0..99 */
    CHECK_EQ(hl_histogram_percentile(&h, 99), 98);
    CHECK_EQ(hl_histogram_percentile(&h, 100), 99);
    CHECK_EQ(hl_histogram_percentile(&h, 0), 0);
    CHECK(hl_histogram_mean(&h) == 49.5);
}

TEST(percentiles_within_a_bucket)
{
    hl_histogram_reset(&h);
    const uint64_t n = 200000;
    for (uint64_t v = 1; v <= n; v++) hl_histogram_record(&h, v * 37); /* 37 .. 7.4M */
    static const double cuts[] = {10, 50, 90, 99, 99.9, 99.99};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        uint64_t rank = (uint64_t)(cuts[c] / 100.0 * (double)n + 0.999999);
        uint64_t truth = rank * 37, got = hl_histogram_percentile(&h, cuts[c]);
        CHECK(got >= truth);
        CHECK((double)got <= (double)truth * (1.0 + 1.0 / 64));
    }
    CHECK_EQ(hl_histogram_percentile(&h, 100), n * 37);
    CHECK(hl_histogram_mean(&h) == 37.0 * (double)(n + 1) / 2.0);
}

TEST(values_past_the_range)
{
    hl_histogram_reset(&h);
    uint64_t huge = UINT64_C(1) << 50;
    hl_histogram_record(&h, 5);
    hl_histogram_record(&h, huge);
    CHECK_EQ(h.bucket[HL_HIST_BUCKETS - 1], 1);
    CHECK_EQ(h.max, huge);
    CHECK_EQ(hl_histogram_percentile(&h, 100), huge);
    CHECK_EQ(hl_histogram_percentile(&h, 99), huge); /* the last bucket clamps to max */
    CHECK_EQ(hl_histogram_percentile(&h, 50), 5);
}

TEST(empty)
{
    hl_histogram_reset(&h);
    CHECK_EQ(hl_histogram_percentile(&h, 50), 0);
    CHECK(hl_histogram_mean(&h) == 0.0);
}

int main(void)
{
    RUN(buckets_tile_the_range);
    RUN(small_values_are_exact);
    RUN(percentiles_within_a_bucket);
    RUN(values_past_the_range);
    RUN(empty);
    return unit_summary();
}
