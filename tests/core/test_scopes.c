/* test_scopes.c: the open scopes' index (core/scopes.c) agrees with a linear scan of
 * the levels from the innermost out, the meaning it replaces: over random opens and
 * closes of a few ids (so one id is often open at two levels and closing the inner
 * must find the outer again), closes of several levels at once and of every level. */
#include "hl_core.h"
#include "unit.h"

#define IDS 12
#define MAX_DEPTH 4000

static uint32_t reference_level(const uint32_t *ids, uint32_t depth, uint32_t id)
{
    for (uint32_t l = depth; l > 0; l--)
        if (ids[l] == id) return l;
    return 0;
}

TEST(index_agrees_with_a_scan_from_the_innermost_level)
{
    static uint32_t ids[MAX_DEPTH + 1];
    uint32_t depth = 0;
    hl_scopes s = {0};
    uint64_t state = 99;
    for (int step = 0; step < 100000; step++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t roll = (uint32_t)(state >> 33) % 100, id = (uint32_t)(state >> 20) % IDS;
        if (roll < 60 && depth < MAX_DEPTH) {
            hl_scopes_push(&s, id);
            ids[++depth] = id;
        } else if (roll < 97) { /* close the level of an id, if open (as scope_exit) */
            uint32_t level = reference_level(ids, depth, id);
            CHECK_EQ(hl_scopes_level(&s, id), level);
            if (level) hl_scopes_close_from(&s, level), depth = level - 1;
        } else { /* free_all */
            hl_scopes_close_from(&s, 0);
            depth = 0;
        }
        CHECK_EQ(s.depth, depth);
        if (step % 97 == 0)
            for (uint32_t k = 0; k < IDS + 2; k++) CHECK_EQ(hl_scopes_level(&s, k), reference_level(ids, depth, k));
    }
    hl_scopes_free(&s);
    CHECK_EQ(hl_scopes_level(&s, 0), 0);
}

TEST(closing_above_the_depth_closes_nothing)
{
    hl_scopes s = {0};
    hl_scopes_push(&s, 7);
    hl_scopes_push(&s, 8);
    hl_scopes_close_from(&s, 3);
    CHECK_EQ(s.depth, 2);
    CHECK_EQ(hl_scopes_level(&s, 8), 2);
    hl_scopes_close_from(&s, 1);
    CHECK_EQ(s.depth, 0);
    CHECK_EQ(hl_scopes_level(&s, 7), 0);
    CHECK_EQ(s.level_of.count, 0);
    hl_scopes_free(&s);
}

int main(void)
{
    RUN(index_agrees_with_a_scan_from_the_innermost_level);
    RUN(closing_above_the_depth_closes_nothing);
    return unit_summary();
}
