/* test_idmap.c: the block id -> position map (core/idmap.c) agrees with a u64map over
 * ids on both sides of the dense limit (0, small, just below and at 2^26, recorded
 * addresses, UINT64_MAX), and positions are overwritten in place. */
#include "hl_core.h"
#include "unit.h"

TEST(positions_of_small_and_large_ids_round_trip)
{
    hl_idmap map = {0};
    hl_u64map want = {0};
    uint64_t fixed[] = {0, 1, 4095, 4096, HL_IDMAP_DENSE - 1, HL_IDMAP_DENSE, 0x7f12345678ull, UINT64_MAX};
    uint32_t at;
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        CHECK(!hl_idmap_find(&map, fixed[i], &at));
        hl_idmap_set(&map, fixed[i], (uint32_t)i);
        *hl_u64map_put(&want, fixed[i], NULL) = i;
    }
    uint64_t state = 7;
    for (uint32_t n = 0; n < 20000; n++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t id = n % 2 ? state >> 40 : state; /* small (dense) and large (hashed) */
        hl_idmap_set(&map, id, n);
        *hl_u64map_put(&want, id, NULL) = n;
    }
    for (size_t i = 0; i < want.capacity; i++) {
        if (!want.used[i]) continue;
        CHECK(hl_idmap_find(&map, want.keys[i], &at));
        CHECK_EQ(at, want.values[i]);
    }
    CHECK(!hl_idmap_find(&map, 2, &at));
    CHECK(!hl_idmap_find(&map, 0x7f12345679ull, &at));
    hl_idmap_free(&map);
    CHECK(!hl_idmap_find(&map, 1, &at));
    hl_u64map_free(&want);
}

int main(void)
{
    RUN(positions_of_small_and_large_ids_round_trip);
    return unit_summary();
}
