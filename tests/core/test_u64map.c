/* test_u64map.c: heaplab's one u64 map (core/u64map.c) agrees with a plain array
 * over random puts and removes, clustered keys included (removal shifts entries back
 * instead of leaving tombstones, the part easiest to get wrong); every key value is
 * allowed, 0 and UINT64_MAX included. */
#include "hl_core.h"
#include "unit.h"

#define KEYS 2000

TEST(map_agrees_with_an_array)
{
    static uint64_t reference[KEYS + 1]; /* value of key k, 0 = absent */
    hl_u64map map = {0};
    uint64_t state = 12345, value;
    for (int step = 0; step < 200000; step++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t key = 1 + (state >> 33) % KEYS;
        uint64_t wide = key * 16; /* addresses a granule apart, as allocators hand out */
        if ((state >> 20) % 3 == 0) {
            CHECK(hl_u64map_remove(&map, wide) == (reference[key] != 0));
            reference[key] = 0;
        } else {
            *hl_u64map_put(&map, wide, NULL) = (uint64_t)step + 1;
            reference[key] = (uint64_t)step + 1;
        }
        if (step % 1000 == 0) {
            size_t count = 0;
            for (uint64_t k = 1; k <= KEYS; k++) {
                bool found = hl_u64map_find(&map, k * 16, &value);
                CHECK(found == (reference[k] != 0));
                if (found) CHECK(value == reference[k]);
                count += found;
            }
            CHECK(count == map.count);
        }
    }
    CHECK(!hl_u64map_find(&map, 0, &value));
    CHECK(!hl_u64map_remove(&map, 0));
    hl_u64map_free(&map);
    CHECK(!hl_u64map_find(&map, 16, &value));
}

TEST(every_key_value_is_a_key)
{
    hl_u64map map = {0};
    bool fresh = false;
    uint64_t value = 1;
    *hl_u64map_put(&map, 0, &fresh) = 7;
    CHECK(fresh);
    *hl_u64map_put(&map, UINT64_MAX, &fresh) = 9;
    CHECK(fresh);
    CHECK(*hl_u64map_put(&map, 0, &fresh) == 7 && !fresh);
    CHECK(hl_u64map_find(&map, 0, &value) && value == 7);
    CHECK(hl_u64map_find(&map, UINT64_MAX, &value) && value == 9);
    CHECK(!hl_u64map_find(&map, 1, NULL));
    CHECK(hl_u64map_remove(&map, 0) && !hl_u64map_find(&map, 0, NULL));
    CHECK(map.count == 1);
    hl_u64map_reserve(&map, 10000);
    CHECK(map.capacity >= 20000 && hl_u64map_find(&map, UINT64_MAX, &value) && value == 9);
    hl_u64map_free(&map);
}

int main(void)
{
    RUN(map_agrees_with_an_array);
    RUN(every_key_value_is_a_key);
    return unit_summary();
}
