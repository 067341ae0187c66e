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

/* Ranges of up to three regions at granule 16: whole regions become `full` flags and
 * partial clears of them make bitmaps again; compared with a granule reference. */
TEST(whole_regions_match_a_granule_reference)
{
    enum { REGIONS = 6, GRANULES = REGIONS * (4 << 20) / 16, RANGES = 12 };
    static unsigned char ref[GRANULES];
    static hl_addr starts[RANGES], ends[RANGES];
    static bool on[RANGES];
    occupancy occ;
    occ_init(&occ, 4);
    srand(9);
    hl_addr base = 40 * REGION;
    int fulls = 0;
    for (int step = 0; step < 600; step++) {
        int r = rand() % RANGES;
        if (on[r]) {
            occ_mark(&occ, starts[r], ends[r], false);
            for (hl_addr a = starts[r]; a < ends[r]; a += 16) ref[(a - base) / 16] = 0;
            on[r] = false;
        } else {
            /* granule-aligned; a third of them start on a region boundary */
            hl_addr g = (hl_addr)(rand() % (GRANULES / 2));
            if (rand() % 3 == 0) g -= g % (REGION / 16);
            hl_addr s = base + g * 16, e = s + 16 * (1 + (hl_addr)(rand() % (3 * (int)(REGION / 16))));
            if (e > base + (hl_addr)GRANULES * 16) e = base + (hl_addr)GRANULES * 16;
            bool any = false, all = true;
            for (hl_addr a = s; a < e; a += 16) any |= ref[(a - base) / 16], all &= ref[(a - base) / 16];
            CHECK_EQ(occ_any(&occ, s, e), any);
            CHECK_EQ(occ_all(&occ, s, e), all);
            if (any) continue;
            occ_mark(&occ, s, e, true);
            for (hl_addr a = s; a < e; a += 16) ref[(a - base) / 16] = 1;
            starts[r] = s, ends[r] = e, on[r] = true;
        }
        for (uint32_t i = 0; i <= occ.mask; i++) fulls += occ.slots[i].used && occ.slots[i].full;
        uint64_t marked = 0;
        for (int i = 0; i < GRANULES; i++) marked += ref[i];
        CHECK_EQ(occ.set, marked);
    }
    CHECK(fulls > 0); /* the test did exercise whole regions */
    occ_clear(&occ);
    CHECK_EQ(occ.set, 0);
    CHECK(!occ_any(&occ, base, base + (hl_addr)GRANULES * 16));
    /* the forgotten regions' bitmaps serve new regions, clear */
    CHECK(occ.spare_count > 0);
    for (hl_addr r = 100; r < 110; r++) {
        hl_addr s = r * REGION + 4096;
        CHECK(!occ_any(&occ, r * REGION, (r + 1) * REGION));
        occ_mark(&occ, s, s + 100, true);
        CHECK(occ_all(&occ, s, s + 100) && !occ_any(&occ, s + 112, s + 4096));
    }
    CHECK_EQ(occ.set, 10 * 7);
    occ_free(&occ);
}

/* A region covered whole is a flag; clearing part of it makes its bitmap, all set
 * but the cleared part. */
TEST(a_partial_clear_of_a_full_region)
{
    occupancy occ;
    occ_init(&occ, 4);
    hl_addr start = 8 * REGION, end = 10 * REGION;
    occ_mark(&occ, start, end, true);
    CHECK_EQ(occ.set, 2 * REGION / 16);
    CHECK(occ_all(&occ, start, end));
    occ_mark(&occ, start + 4096, start + 8192, false);
    CHECK_EQ(occ.set, 2 * REGION / 16 - 256);
    CHECK(occ_all(&occ, start, start + 4096));
    CHECK(!occ_any(&occ, start + 4096, start + 8192));
    CHECK(occ_all(&occ, start + 8192, end));
    occ_free(&occ);
}

int main(void)
{
    RUN(marks_span_region_boundaries);
    RUN(aligned_neighbours_never_share_a_granule);
    RUN(the_top_of_the_address_space);
    RUN(random_ranges_match_a_byte_reference);
    RUN(whole_regions_match_a_granule_reference);
    RUN(a_partial_clear_of_a_full_region);
    return unit_summary();
}
