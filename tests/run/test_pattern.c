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
    hl_pattern_fill(a, 7, 0, SIZE);
    CHECK(hl_pattern_verify(a, 7, 0, SIZE, &bad));
    CHECK(!hl_pattern_verify(a, 8, 0, SIZE, &bad) && bad == 0);
    /* a partial fill (an odd start and end) writes the bytes a whole fill writes */
    memset(b, 0, SIZE);
    hl_pattern_fill(b + 13, 7, 13, SIZE - 5);
    CHECK(memcmp(a + 13, b + 13, 64 * 1024 - 13) == 0);
    CHECK(hl_pattern_verify(b + 13, 7, 13, SIZE - 5, &bad));
    free(a), free(b);
}

TEST(above_64k_only_a_line_per_64k_is_sampled)
{
    unsigned char *a = malloc(SIZE);
    memset(a, 0xAB, SIZE);
    hl_pattern_fill(a, 3, 0, SIZE);
    CHECK(a[64 * 1024 - 1] != 0xAB || a[64 * 1024 - 2] != 0xAB); /* dense below 64 KiB */
    CHECK(a[64 * 1024 + 64] == 0xAB && a[128 * 1024 - 1] == 0xAB); /* not written */
    size_t bad = 0;
    a[100 * 1024] ^= 1; /* an unsampled byte: not read */
    CHECK(hl_pattern_verify(a, 3, 0, SIZE, &bad));
    a[128 * 1024 + 10] ^= 1; /* a sampled byte: read */
    CHECK(!hl_pattern_verify(a, 3, 0, SIZE, &bad) && bad == 128 * 1024 + 10);
    a[128 * 1024 + 10] ^= 1;
    a[1000] ^= 0xFF; /* dense head */
    CHECK(!hl_pattern_verify(a, 3, 0, SIZE, &bad) && bad == 1000);
    CHECK(hl_pattern_verify(a + 1001, 3, 1001, SIZE, &bad));
    free(a);
}

int main(void)
{
    RUN(fill_and_verify_agree_and_differ_per_id);
    RUN(above_64k_only_a_line_per_64k_is_sampled);
    return unit_summary();
}
