/* test_blockmap.c: the id map, scope levels and address index (its bitmap has its
 * own tests in test_occupancy.c). */
#include "hl_check.h"
#include "unit.h"

#include <stdlib.h>

static hl_block *live(hl_blockmap *map, uint64_t id, hl_addr addr, size_t size)
{
    hl_block *b = hl_blockmap_get(map, id);
    b->addr = addr;
    hl_block_set_layout(b, (hl_layout){size, 1});
    hl_blockmap_make_live(map, b, HL_BLOCK_LIVE);
    return b;
}

TEST(ids_are_found_and_counted)
{
    hl_blockmap *map = hl_blockmap_new();
    for (uint64_t id = 0; id < 5000; id++) live(map, id * 7919, 0, id % 100);
    CHECK_EQ(hl_blockmap_live_blocks(map), 5000);
    uint64_t bytes = 0;
    for (uint64_t id = 0; id < 5000; id++) bytes += id % 100;
    CHECK_EQ(hl_blockmap_live_bytes(map), bytes);
    CHECK(hl_blockmap_find(map, 7919 * 4999) != NULL);
    CHECK(hl_blockmap_find(map, 1) == NULL);
    hl_blockmap_make_freed(map, hl_blockmap_find(map, 7919 * 10));
    CHECK_EQ(hl_blockmap_live_blocks(map), 4999);
    CHECK_EQ(hl_blockmap_find(map, 7919 * 10)->state, HL_BLOCK_FREED);
    char why[200];
    CHECK(hl_blockmap_check(map, why, sizeof why));
    hl_blockmap_free(map);
}

TEST(large_ids_hash_small_ids_index_directly)
{
    /* ids below 2^26 go through a direct array, larger ones (recorded addresses) hash */
    hl_blockmap *map = hl_blockmap_new();
    for (uint64_t k = 0; k < 20000; k++) {
        live(map, k, 0, 1);
        live(map, (1ull << 40) + k * 7919, 0, 2);
        live(map, UINT64_MAX - k, 0, 3);
    }
    CHECK_EQ(hl_blockmap_live_blocks(map), 60000);
    CHECK_EQ(hl_blockmap_live_bytes(map), 20000 * 6);
    for (uint64_t k = 0; k < 20000; k += 97) {
        CHECK_EQ(hl_blockmap_find(map, k)->size, 1);
        CHECK_EQ(hl_blockmap_find(map, (1ull << 40) + k * 7919)->size, 2);
        CHECK_EQ(hl_blockmap_find(map, UINT64_MAX - k)->size, 3);
    }
    CHECK(hl_blockmap_find(map, 20000) == NULL);
    CHECK(hl_blockmap_find(map, 1ull << 26) == NULL);
    CHECK(hl_blockmap_find(map, (1ull << 40) + 1) == NULL);
    hl_blockmap_free(map);
}

/* True if b's extent meets [start, start + len). */
static bool extent_holds(const hl_block *b, hl_addr start, size_t len)
{
    return b && b->addr < start + len && start < b->addr + (b->size ? b->size : 1);
}

TEST(address_index_finds_overlaps)
{
    hl_blockmap *map = hl_blockmap_new();
    bool overlap;
    uint64_t other = 0;
    /* blocks at 1000+32k of 16 bytes, inserted out of order */
    for (uint64_t i = 0; i < 2000; i++) {
        uint64_t k = (i * 1237) % 2000;
        hl_block *b = live(map, k, 1000 + 32 * k, 16);
        hl_blockmap_index(map, b, &overlap, &other);
        CHECK(!overlap);
    }
    hl_block *a = live(map, 5000, 1000 + 32 * 7 + 8, 4); /* inside block 7 */
    hl_blockmap_index(map, a, &overlap, &other);
    CHECK(overlap);
    CHECK_EQ(other, 7);
    hl_blockmap_make_freed(map, a);
    hl_block *b = live(map, 5001, 1000 + 32 * 7 + 16, 16); /* the gap after block 7 */
    hl_blockmap_index(map, b, &overlap, &other);
    CHECK(!overlap);
    hl_block *c = live(map, 5002, 1000 + 32 * 9 - 4, 8); /* straddles into block 9 */
    hl_blockmap_index(map, c, &overlap, &other);
    CHECK(overlap);
    CHECK_EQ(other, 9);
    hl_blockmap_make_freed(map, c);
    CHECK(hl_blockmap_at(map, 1000 + 32 * 3 + 15) == hl_blockmap_find(map, 3));
    CHECK(hl_blockmap_at(map, 1000 + 32 * 3 + 16) == NULL); /* the gap after block 3 */
    CHECK(hl_blockmap_at(map, 999) == NULL);
    for (uint64_t k = 0; k < 2000; k += 2) hl_blockmap_make_freed(map, hl_blockmap_find(map, k));
    CHECK(hl_blockmap_at(map, 1000 + 32 * 4) == NULL);
    CHECK(hl_blockmap_at(map, 1000 + 32 * 5) == hl_blockmap_find(map, 5));
    char why[200];
    CHECK(hl_blockmap_check(map, why, sizeof why));
    hl_blockmap_free(map);
}

/* With the granule of a 16-aligned backend, blocks of any size that start on 16
 * still pack without false overlaps, and a real overlap is still named. */
TEST(granule_of_sixteen_is_exact_for_aligned_blocks)
{
    hl_blockmap *map = hl_blockmap_new();
    hl_blockmap_set_granule(map, 16);
    bool overlap;
    uint64_t other = 0;
    hl_addr at = 4096;
    for (uint64_t id = 1; id <= 500; id++) {
        size_t size = 1 + (size_t)(id * 37 % 200);
        hl_blockmap_index(map, live(map, id, at, size), &overlap, &other);
        CHECK(!overlap);
        at += (size + 15) & ~(size_t)15; /* the next 16-byte boundary after it */
    }
    CHECK(hl_blockmap_covered(map, 4096));
    CHECK(!hl_blockmap_covered(map, at));
    hl_block *clash = live(map, 900, 4096 + 16 * 3, 64);
    hl_blockmap_index(map, clash, &overlap, &other);
    CHECK(overlap);
    CHECK(other >= 1 && other <= 4); /* one of the first blocks lies there */
    CHECK(extent_holds(hl_blockmap_find(map, other), 4096 + 16 * 3, 64));
    hl_blockmap_make_freed(map, clash);
    char why[200];
    CHECK(hl_blockmap_check(map, why, sizeof why));
    hl_blockmap_free(map);
}

TEST(size_zero_blocks_take_one_byte)
{
    hl_blockmap *map = hl_blockmap_new();
    bool overlap;
    uint64_t other;
    hl_blockmap_index(map, live(map, 1, 4096, 0), &overlap, &other);
    CHECK(!overlap);
    hl_blockmap_index(map, live(map, 2, 4096, 0), &overlap, &other);
    CHECK(overlap);
    hl_blockmap_free(map);
}

TEST(scopes_close_inner_levels)
{
    hl_blockmap *map = hl_blockmap_new();
    live(map, 1, 0, 10);
    hl_blockmap_push_scope(map, 7, 70);
    live(map, 2, 0, 20);
    hl_blockmap_push_scope(map, 8, 80);
    live(map, 3, 0, 30);
    live(map, 4, 0, 40);
    CHECK_EQ(hl_blockmap_depth(map), 2);
    CHECK_EQ(hl_blockmap_scope_level(map, 8), 2);
    CHECK_EQ(hl_blockmap_scope_handle(map, 1), 70);
    CHECK_EQ(hl_blockmap_scope_level(map, 9), 0);
    /* promote-like: block 3 moves to level 0, then levels >= 1 close */
    hl_blockmap_move_level(map, hl_blockmap_find(map, 3), 0);
    hl_blockmap_close_from(map, 1);
    CHECK_EQ(hl_blockmap_depth(map), 0);
    CHECK_EQ(hl_blockmap_find(map, 1)->state, HL_BLOCK_LIVE);
    CHECK_EQ(hl_blockmap_find(map, 2)->state, HL_BLOCK_FREED);
    CHECK_EQ(hl_blockmap_find(map, 3)->state, HL_BLOCK_LIVE);
    CHECK_EQ(hl_blockmap_find(map, 4)->state, HL_BLOCK_FREED);
    CHECK_EQ(hl_blockmap_live_bytes(map), 40);
    char why[200];
    CHECK(hl_blockmap_check(map, why, sizeof why));
    hl_blockmap_close_from(map, 0);
    CHECK_EQ(hl_blockmap_live_blocks(map), 0);
    hl_blockmap_free(map);
}

static void note_id(void *context, hl_block *block)
{
    uint64_t **at = context;
    *(*at)++ = block->id;
}

TEST(live_blocks_are_visited_in_id_order_small_and_hashed)
{
    /* teardown's fixed order: small ids (the id array) then hashed ones, each sorted,
     * whatever order they were made in; freed ids are left out */
    hl_blockmap *map = hl_blockmap_new();
    uint64_t made[] = {UINT64_MAX, 5, (1ull << 40) + 3, 70000, 1ull << 26, 2, (1ull << 40) + 1, 9};
    for (size_t i = 0; i < sizeof made / sizeof *made; i++) live(map, made[i], 0, 1);
    hl_blockmap_make_freed(map, hl_blockmap_find(map, 9));
    uint64_t seen[16], *at = seen;
    hl_blockmap_visit_live_by_id(map, note_id, &at);
    uint64_t want[] = {2, 5, 70000, 1ull << 26, (1ull << 40) + 1, (1ull << 40) + 3, UINT64_MAX};
    CHECK_EQ((size_t)(at - seen), sizeof want / sizeof *want);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) CHECK_EQ(seen[i], want[i]);
    hl_blockmap_free(map);
}

TEST(live_blocks_are_visited_in_id_order_however_the_id_array_is_sized)
{
    /* many small ids (the id array is walked) and, after a reset, a few in an array
     * sized for 100000 (the entries in use are sorted): ascending both times */
    hl_blockmap *map = hl_blockmap_new();
    for (uint64_t id = 1200; id > 0; id--) live(map, id, 0, 1);
    for (uint64_t id = 1; id <= 1200; id += 2) hl_blockmap_make_freed(map, hl_blockmap_find(map, id));
    static uint64_t seen[1200];
    uint64_t *at = seen;
    hl_blockmap_visit_live_by_id(map, note_id, &at);
    CHECK_EQ((size_t)(at - seen), 600);
    for (size_t i = 0; i < 600; i++) CHECK_EQ(seen[i], 2 + 2 * i);
    hl_blockmap_reset(map);
    hl_blockmap_reserve(map, 8, 100000);
    uint64_t made[] = {99999, 50, 3, 7000, 12};
    for (size_t i = 0; i < sizeof made / sizeof *made; i++) live(map, made[i], 0, 1);
    hl_blockmap_make_freed(map, hl_blockmap_find(map, 3));
    at = seen;
    hl_blockmap_visit_live_by_id(map, note_id, &at);
    uint64_t want[] = {12, 50, 7000, 99999};
    CHECK_EQ((size_t)(at - seen), 4);
    for (size_t i = 0; i < 4; i++) CHECK_EQ(seen[i], want[i]);
    hl_blockmap_reset(map); /* and nothing at all */
    at = seen;
    hl_blockmap_visit_live_by_id(map, note_id, &at);
    CHECK_EQ((size_t)(at - seen), 0);
    hl_blockmap_free(map);
}

TEST(scope_nodes_are_reused_and_levels_stay_exact)
{
    /* blocks inside scopes carry a node; freeing one returns it; the check walks them */
    hl_blockmap *map = hl_blockmap_new();
    live(map, 1, 0, 1);
    CHECK_EQ(hl_blockmap_level_of(map, hl_blockmap_find(map, 1)), 0);
    CHECK_EQ(hl_blockmap_find(map, 1)->node, 0);
    hl_blockmap_push_scope(map, 4, 40);
    for (int round = 0; round < 1000; round++) {
        hl_block *b = live(map, 2 + (uint64_t)round % 3, 0, 1);
        CHECK_EQ(hl_blockmap_level_of(map, b), 1);
        if (round % 3 == 2)
            for (uint64_t id = 2; id < 5; id++) hl_blockmap_make_freed(map, hl_blockmap_find(map, id));
    }
    char why[200];
    CHECK(hl_blockmap_check(map, why, sizeof why));
    hl_blockmap_move_level(map, hl_blockmap_find(map, 2), 0);
    CHECK_EQ(hl_blockmap_level_of(map, hl_blockmap_find(map, 2)), 0);
    CHECK(hl_blockmap_check(map, why, sizeof why));
    hl_blockmap_close_from(map, 1);
    CHECK_EQ(hl_blockmap_find(map, 2)->state, HL_BLOCK_LIVE);
    CHECK_EQ(hl_blockmap_find(map, 3)->node, 0);
    CHECK(hl_blockmap_check(map, why, sizeof why));
    hl_blockmap_free(map);
}

TEST(layouts_keep_their_alignment)
{
    hl_block b = {0};
    hl_block_set_layout(&b, (hl_layout){100, 4096});
    CHECK_EQ(hl_block_layout(&b).size, 100);
    CHECK_EQ(hl_block_layout(&b).align, 4096);
    hl_block_set_layout(&b, (hl_layout){8, 3}); /* not a power of two: never served */
    CHECK_EQ(hl_block_layout(&b).align, 0);
    CHECK_EQ(sizeof(hl_block), 40);
}

TEST(check_notices_a_broken_counter)
{
    hl_blockmap *map = hl_blockmap_new();
    hl_block *b = live(map, 1, 64, 10);
    b->size = 11; /* behind the map's back */
    char why[200];
    CHECK(!hl_blockmap_check(map, why, sizeof why));
    CHECK(strstr(why, "counters") != NULL);
    hl_blockmap_free(map);
}

TEST(pattern_round_trip_and_difference)
{
    unsigned char a[300], b[300];
    hl_pattern_fill(HL_PATTERN_TRACE, a, 42, 0, 300);
    size_t bad = 0;
    CHECK(hl_pattern_verify(HL_PATTERN_TRACE, a, 42, 0, 300, &bad));
    CHECK(!hl_pattern_verify(HL_PATTERN_TRACE, a, 43, 0, 300, &bad));
    /* a fill from an unaligned offset equals the same bytes of a whole fill */
    hl_pattern_fill(HL_PATTERN_TRACE, b + 13, 42, 13, 299);
    CHECK(memcmp(a + 13, b + 13, 286) == 0);
    a[201] ^= 1;
    CHECK(!hl_pattern_verify(HL_PATTERN_TRACE, a, 42, 0, 300, &bad));
    CHECK_EQ(bad, 201);
    CHECK(hl_pattern_verify(HL_PATTERN_TRACE, a + 202, 42, 202, 300, &bad));
}

/* After reserve, the tables do not move while the reserved ids arrive: an entry
 * pointer taken first is still the entry after the last one. */
TEST(reserve_sizes_the_tables_up_front)
{
    hl_blockmap *map = hl_blockmap_new();
    hl_blockmap_reserve(map, 50000, 50000);
    hl_block *first = hl_blockmap_get(map, 1);
    for (uint64_t id = 2; id <= 50000; id++) hl_blockmap_get(map, id);
    CHECK(hl_blockmap_find(map, 1) == first);
    CHECK_EQ(hl_blockmap_find(map, 50000)->id, 50000);
    CHECK(hl_blockmap_get(map, 1ull << 40) != NULL); /* beyond the reservation still works */
    hl_blockmap_free(map);
}

TEST(address_index_survives_random_churn)
{
    /* enough blocks to split and empty many chunks; checked against the truth */
    hl_blockmap *map = hl_blockmap_new();
    enum { SLOTS = 6000 };
    static bool live_slot[SLOTS];
    srand(11);
    for (int step = 0; step < 60000; step++) {
        int k = rand() % SLOTS;
        hl_block *b = hl_blockmap_get(map, (uint64_t)k);
        if (!live_slot[k]) {
            b->addr = 4096 + 64 * (hl_addr)k;
            hl_block_set_layout(b, (hl_layout){(size_t)(1 + rand() % 63), 1});
            hl_blockmap_make_live(map, b, HL_BLOCK_LIVE);
            bool overlap;
            uint64_t other;
            hl_blockmap_index(map, b, &overlap, &other);
            CHECK(!overlap);
            live_slot[k] = true;
        } else {
            hl_blockmap_make_freed(map, b);
            live_slot[k] = false;
        }
    }
    for (int k = 0; k < SLOTS; k++) {
        hl_block *at = hl_blockmap_at(map, 4096 + 64 * (hl_addr)k);
        CHECK(live_slot[k] ? at == hl_blockmap_find(map, (uint64_t)k) : at == NULL);
        CHECK(hl_blockmap_at(map, 4096 + 64 * (hl_addr)k + 63) == NULL); /* sizes are <= 64: a gap */
    }
    char why[200];
    CHECK(hl_blockmap_check(map, why, sizeof why));
    hl_blockmap_free(map);
}

int main(void)
{
    RUN(address_index_survives_random_churn);
    RUN(reserve_sizes_the_tables_up_front);
    RUN(granule_of_sixteen_is_exact_for_aligned_blocks);
    RUN(large_ids_hash_small_ids_index_directly);
    RUN(ids_are_found_and_counted);
    RUN(address_index_finds_overlaps);
    RUN(size_zero_blocks_take_one_byte);
    RUN(scopes_close_inner_levels);
    RUN(check_notices_a_broken_counter);
    RUN(live_blocks_are_visited_in_id_order_small_and_hashed);
    RUN(live_blocks_are_visited_in_id_order_however_the_id_array_is_sized);
    RUN(scope_nodes_are_reused_and_levels_stay_exact);
    RUN(layouts_keep_their_alignment);
    RUN(pattern_round_trip_and_difference);
    return unit_summary();
}
