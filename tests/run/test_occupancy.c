/* test_occupancy.c: the granule bitmap behind the address index, against a byte
 * reference, across 4 MiB region boundaries and at the top of the address space. */
#include "occupancy.h"
#include "unit.h"

#include <stdlib.h>

#define REGION ((hl_addr)4 << 20)

TEST(marks_span_region_boundaries)
{
    occupancy occ;
    occ_init(&occ, 4);
    hl_addr start = 7 * REGION - 48, end = 7 * REGION + 80; /* 3 granules before, 5 after */
    CHECK(!occ_any(&occ, start, end));
    occ_mark(&occ, start, end, true);
    CHECK_EQ(occ.set, 8);
    CHECK_EQ(occ_granules(&occ, start, end), 8);
    CHECK(occ_all(&occ, start, end));
    CHECK(occ_any(&occ, 7 * REGION + 64, 7 * REGION + 65));
    CHECK(!occ_any(&occ, 7 * REGION + 80, 7 * REGION + 96)); /* the next granule is free */
    CHECK(!occ_any(&occ, start - 16, start));
    occ_mark(&occ, start, end, false);
    CHECK_EQ(occ.set, 0);
    CHECK(!occ_any(&occ, start, end));
    occ_free(&occ);
}

TEST(aligned_neighbours_never_share_a_granule)
{
    occupancy occ;
    occ_init(&occ, 4);
    occ_mark(&occ, 1024, 1024 + 20, true); /* 20 bytes: two granules, the second partly */
    CHECK(!occ_any(&occ, 1056, 1056 + 16)); /* the next 16-aligned block is free to go */
    CHECK(occ_any(&occ, 1040, 1041));       /* the partly used granule is taken */
    occ_free(&occ);
}

TEST(the_top_of_the_address_space)
{
    occupancy occ;
    occ_init(&occ, 0);
    hl_addr start = (hl_addr)-64;
    occ_mark(&occ, start, 0, true); /* end 0: up to the top */
    CHECK_EQ(occ.set, 64);
    CHECK(occ_any(&occ, (hl_addr)-1, 0));
    CHECK(occ_all(&occ, start, 0));
    occ_mark(&occ, start, 0, false);
    CHECK_EQ(occ.set, 0);
    occ_free(&occ);
}

/* Random marks and clears of byte ranges, compared with a byte array. */
TEST(random_ranges_match_a_byte_reference)
{
    enum { SPACE = 3 * (4 << 20) / 1024, RANGES = 400 };
    static unsigned char ref[SPACE];
    static hl_addr starts[RANGES], ends[RANGES];
    static bool on[RANGES];
    occupancy occ;
    occ_init(&occ, 0);
    srand(5);
    hl_addr base = REGION - SPACE / 2; /* straddles a region boundary */
    for (int step = 0; step < 20000; step++) {
        int r = rand() % RANGES;
        if (on[r]) {
            occ_mark(&occ, starts[r], ends[r], false);
            for (hl_addr a = starts[r]; a < ends[r]; a++) ref[a - base] = 0;
            on[r] = false;
            continue;
        }
        hl_addr s = base + (hl_addr)(rand() % (SPACE - 300)), e = s + 1 + (hl_addr)(rand() % 299);
        bool any = false;
        for (hl_addr a = s; a < e; a++) any |= ref[a - base];
        CHECK_EQ(occ_any(&occ, s, e), any);
        if (any) continue;
        occ_mark(&occ, s, e, true);
        for (hl_addr a = s; a < e; a++) ref[a - base] = 1;
        starts[r] = s, ends[r] = e, on[r] = true;
    }
    uint64_t marked = 0;
    for (int i = 0; i < SPACE; i++) marked += ref[i];
    CHECK_EQ(occ.set, marked);
    occ_free(&occ);
}

int main(void)
{
    RUN(marks_span_region_boundaries);
    RUN(aligned_neighbours_never_share_a_granule);
    RUN(the_top_of_the_address_space);
    RUN(random_ranges_match_a_byte_reference);
    return unit_summary();
}
