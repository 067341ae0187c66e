/* test_mem.c: heaplab's private memory (hl_mem_*): zeroed blocks, class reuse,
 * large blocks on huge-page boundaries that stay there when they grow. */
#include "hl_check.h"
#include "unit.h"

#include <stdint.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

TEST(small_blocks_are_zeroed_and_reused)
{
    unsigned char *a = hl_mem_alloc(100);
    CHECK(all_zero(a, 100));
    memset(a, 0xab, 100);
    hl_mem_free(a);
    unsigned char *b = hl_mem_alloc(90); /* same class: the freed block, zeroed again */
    CHECK(b == a);
    CHECK(all_zero(b, 90));
    hl_mem_free(b);
}

TEST(large_blocks_start_on_a_huge_page_boundary)
{
    size_t before = hl_mem_footprint();
    unsigned char *p = hl_mem_alloc(5 << 20);
    /* the 16-byte header sits at the start of the mapping */
    CHECK_EQ(((uintptr_t)p - 16) % HUGE_PAGE, 0);
    CHECK(hl_mem_footprint() >= before + (5 << 20));
    CHECK(all_zero(p, 5 << 20));
    hl_mem_free(p);
    CHECK_EQ(hl_mem_footprint(), before);
}

TEST(growing_keeps_bytes_and_alignment)
{
    unsigned char *p = hl_mem_alloc(3 << 20);
    for (size_t i = 0; i < (3 << 20); i += 4096) p[i] = (unsigned char)(i >> 12);
    p = hl_mem_realloc(p, 9 << 20);
    CHECK_EQ(((uintptr_t)p - 16) % HUGE_PAGE, 0);
    bool kept = true;
    for (size_t i = 0; i < (3 << 20); i += 4096) kept &= p[i] == (unsigned char)(i >> 12);
    CHECK(kept);
    CHECK(all_zero(p + (4 << 20), 5 << 20)); /* the grown part is fresh */
    hl_mem_free(p);
}

int main(void)
{
    RUN(small_blocks_are_zeroed_and_reused);
    RUN(large_blocks_start_on_a_huge_page_boundary);
    RUN(growing_keeps_bytes_and_alignment);
    return unit_summary();
}
