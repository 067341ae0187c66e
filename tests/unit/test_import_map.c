/* test_import_map.c: the importers' address -> id map (harness/import/map.c) agrees
 * with a plain array over random puts and removes, clustered keys included (removal
 * shifts entries back instead of leaving tombstones, the part easiest to get wrong). */
#include "import/importer.h"
#include "unit.h"

#define KEYS 2000

TEST(map_agrees_with_an_array)
{
    static uint64_t reference[KEYS + 1]; /* value of key k, 0 = absent */
    hl_import_map map = {0};
    uint64_t state = 12345, value;
    for (int step = 0; step < 200000; step++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t key = 1 + (state >> 33) % KEYS;
        uint64_t wide = key * 16; /* addresses a granule apart, as allocators hand out */
        if ((state >> 20) % 3 == 0) {
            CHECK(hl_import_map_remove(&map, wide) == (reference[key] != 0));
            reference[key] = 0;
        } else {
            hl_import_map_put(&map, wide, (uint64_t)step + 1);
            reference[key] = (uint64_t)step + 1;
        }
        if (step % 1000 == 0) {
            size_t count = 0;
            for (uint64_t k = 1; k <= KEYS; k++) {
                bool found = hl_import_map_find(&map, k * 16, &value);
                CHECK(found == (reference[k] != 0));
                if (found) CHECK(value == reference[k]);
                count += found;
            }
            CHECK(count == map.count);
        }
    }
    CHECK(!hl_import_map_find(&map, 0, &value));
    CHECK(!hl_import_map_remove(&map, 0));
    hl_import_map_free(&map);
    CHECK(!hl_import_map_find(&map, 16, &value));
}

int main(void)
{
    RUN(map_agrees_with_an_array);
    return unit_summary();
}
