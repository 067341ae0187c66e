/* test_pattern.c: block patterns. Every byte below 64 KiB carries the pattern; above,
 * only the first 64 bytes of each further 64 KiB do: fill writes no other byte and
 * verify reads none, and a fill of part of a block matches a fill of all of it. */
#include "hl_check.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#define SIZE (300u * 1024u)

TEST(fill_and_verify_agree_and_differ_per_id)
{
    unsigned char *a = malloc(SIZE), *b = malloc(SIZE);
    size_t bad = 0;
    hl_pattern_fill(HL_PATTERN_TRACE, a, 7, 0, SIZE);
    CHECK(hl_pattern_verify(HL_PATTERN_TRACE, a, 7, 0, SIZE, &bad));
    CHECK(!hl_pattern_verify(HL_PATTERN_TRACE, a, 8, 0, SIZE, &bad) && bad == 0);
    /* a partial fill (an odd start and end) writes the bytes a whole fill writes */
    memset(b, 0, SIZE);
    hl_pattern_fill(HL_PATTERN_TRACE, b + 13, 7, 13, SIZE - 5);
    CHECK(memcmp(a + 13, b + 13, 64 * 1024 - 13) == 0);
    CHECK(hl_pattern_verify(HL_PATTERN_TRACE, b + 13, 7, 13, SIZE - 5, &bad));
    free(a), free(b);
}

TEST(above_64k_only_a_line_per_64k_is_sampled)
{
    unsigned char *a = malloc(SIZE);
    memset(a, 0xAB, SIZE);
    hl_pattern_fill(HL_PATTERN_TRACE, a, 3, 0, SIZE);
    CHECK(a[64 * 1024 - 1] != 0xAB || a[64 * 1024 - 2] != 0xAB); /* dense below 64 KiB */
    CHECK(a[64 * 1024 + 64] == 0xAB && a[128 * 1024 - 1] == 0xAB); /* not written */
    size_t bad = 0;
    a[100 * 1024] ^= 1; /* an unsampled byte: not read */
    CHECK(hl_pattern_verify(HL_PATTERN_TRACE, a, 3, 0, SIZE, &bad));
    a[128 * 1024 + 10] ^= 1; /* a sampled byte: read */
    CHECK(!hl_pattern_verify(HL_PATTERN_TRACE, a, 3, 0, SIZE, &bad) && bad == 128 * 1024 + 10);
    a[128 * 1024 + 10] ^= 1;
    a[1000] ^= 0xFF; /* dense head */
    CHECK(!hl_pattern_verify(HL_PATTERN_TRACE, a, 3, 0, SIZE, &bad) && bad == 1000);
    CHECK(hl_pattern_verify(HL_PATTERN_TRACE, a + 1001, 3, 1001, SIZE, &bad));
    free(a);
}

/* HL_PATTERN_FUZZ: dense below 4 KiB, then 2 lines an octave; which bytes are sampled
 * does not depend on the block's end, so fills of a grown block's parts match a fill
 * of the whole, and a shrunk block verifies. */
TEST(the_fuzz_shape_samples_octaves)
{
    enum { BIG = 16u << 20 };
    unsigned char *a = malloc(BIG), *b = malloc(BIG);
    memset(a, 0xAB, BIG);
    hl_pattern_fill(HL_PATTERN_FUZZ, a, 5, 0, BIG);
    size_t lines = 0, written = 0;
    for (size_t i = 4096; i < BIG; i += 64) {
        bool line = false;
        for (size_t j = 0; j < 64; j++) line |= a[i + j] != 0xAB;
        lines += line;
    }
    for (size_t i = 0; i < BIG; i++) written += a[i] != 0xAB;
    CHECK_EQ(lines, 24); /* 12 octaves from 4 KiB to 16 MiB, at 2^k and 1.5 * 2^k */
    CHECK(written <= 4096 + 24 * 64 && written > 4096 + 22 * 64); /* a few pattern bytes are 0xAB */
    CHECK(a[4095] != 0xAB || a[4094] != 0xAB);                    /* the dense head */
    CHECK(a[6144] != 0xAB || a[6145] != 0xAB);                    /* the 2nd line of 4-8 KiB */
    CHECK(a[4096 + 200] == 0xAB && a[5000] == 0xAB);              /* between lines */
    CHECK(a[(8u << 20) + 64] == 0xAB && a[(10u << 20)] == 0xAB);
    /* grown in place: [0, 100 KiB) then [100 KiB, BIG) writes what one fill writes */
    memset(b, 0xAB, BIG);
    hl_pattern_fill(HL_PATTERN_FUZZ, b, 5, 0, 100 * 1024);
    hl_pattern_fill(HL_PATTERN_FUZZ, b + 100 * 1024, 5, 100 * 1024, BIG);
    CHECK(memcmp(a, b, BIG) == 0);
    size_t bad = 0;
    CHECK(hl_pattern_verify(HL_PATTERN_FUZZ, a, 5, 0, 3u << 20, &bad)); /* shrunk */
    a[(12u << 20) + 3] ^= 1; /* on the line at 12 MiB (1.5 * 8 MiB) */
    CHECK(!hl_pattern_verify(HL_PATTERN_FUZZ, a, 5, 0, BIG, &bad) && bad == (12u << 20) + 3);
    a[(12u << 20) + 3] ^= 1;
    a[(12u << 20) + 100] ^= 1; /* between lines: not read */
    CHECK(hl_pattern_verify(HL_PATTERN_FUZZ, a, 5, 0, BIG, &bad));
    free(a), free(b);
}

int main(void)
{
    RUN(fill_and_verify_agree_and_differ_per_id);
    RUN(above_64k_only_a_line_per_64k_is_sampled);
    RUN(the_fuzz_shape_samples_octaves);
    return unit_summary();
}
