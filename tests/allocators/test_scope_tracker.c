/* test_scope_tracker.c: the shared scope tracker, on a host of plain malloc'd blocks,
 * including a randomized run of adds and removes against a reference list (the
 * table's backward-shift deletion must never lose an entry). */
#include "scope_tracker.h"
#include "unit.h"

#include <stdlib.h>

static size_t memory_in_use;
static void *get(void *context, size_t bytes)
{
    (void)context;
    memory_in_use += bytes;
    return malloc(bytes);
}
static void put(void *context, void *memory, size_t bytes)
{
    (void)context;
    memory_in_use -= bytes;
    free(memory);
}

static int released;
static hl_addr host_alloc(void *context, hl_layout layout, hl_caps caps)
{
    (void)caps; /* no capabilities here */
    (void)context;
    return (hl_addr)malloc(layout.size ? layout.size : 1);
}
static void host_release(void *context, hl_addr addr, hl_layout layout)
{
    (void)context, (void)layout;
    released++;
    free((void *)addr);
}
static void *host_view(void *context, hl_addr addr, size_t len)
{
    (void)context, (void)len;
    return (void *)addr;
}
static const hl_tracker_host host = {NULL, host_alloc, host_release, host_view};
static void count_only(void *context, hl_addr addr, hl_layout layout)
{
    (void)context, (void)addr, (void)layout;
    released++;
}

static hl_addr tracked_block(hl_tracker *t, size_t size)
{
    hl_addr a = host_alloc(NULL, (hl_layout){size, 8}, HL_CAP_NONE);
    CHECK_EQ(hl_tracker_add(t, a, (hl_layout){size, 8}, 0), HL_E_OK);
    return a;
}

TEST(misuse_classification)
{
    hl_tracker t;
    hl_tracker_init(&t, (hl_tracker_memory){NULL, get, put, true}, true, true);
    hl_addr a = tracked_block(&t, 32);
    CHECK_EQ(hl_tracker_classify_free(&t, a, (hl_layout){32, 8}), HL_E_OK);
    CHECK_EQ(hl_tracker_classify_free(&t, a + 4, (hl_layout){32, 8}), HL_E_INVALID_POINTER);
    CHECK_EQ(hl_tracker_classify_free(&t, a, (hl_layout){32, 16}), HL_E_LAYOUT_MISMATCH);
    hl_tracker_remove(&t, a);
    CHECK_EQ(hl_tracker_classify_free(&t, a, (hl_layout){32, 8}), HL_E_DOUBLE_FREE);
    CHECK_EQ(hl_tracker_add(&t, a, (hl_layout){16, 8}, 0), HL_E_OK); /* the address comes back */
    CHECK_EQ(hl_tracker_classify_free(&t, a, (hl_layout){16, 8}), HL_E_OK);
    CHECK_EQ(t.live_blocks, 1);
    char why[200];
    CHECK_EQ(hl_tracker_check(&t, why, sizeof why), HL_E_OK);
    hl_tracker_remove(&t, a);
    free((void *)a);
    hl_tracker_release_memory(&t);
    CHECK_EQ(memory_in_use, 0);
}

TEST(scopes_exit_and_promote)
{
    hl_tracker t;
    hl_tracker_init(&t, (hl_tracker_memory){NULL, get, put, true}, false, false);
    CHECK(!hl_tracker_wants(&t));
    hl_scope s1, s2;
    CHECK_EQ(hl_tracker_enter(&t, &s1), HL_E_OK);
    hl_addr a = tracked_block(&t, 10);
    CHECK_EQ(hl_tracker_enter(&t, &s2), HL_E_OK);
    hl_addr b = tracked_block(&t, 20);
    tracked_block(&t, 30);
    memset((void *)b, 0x5a, 20);
    hl_error e = HL_E_OK;
    CHECK_EQ(hl_tracker_promote(&t, &host, s1, a, (hl_layout){10, 8}, 11, &e), 0); /* n too large */
    CHECK_EQ(e, HL_E_INVALID_ARGUMENT);
    released = 0;
    hl_addr c = hl_tracker_promote(&t, &host, s2, b, (hl_layout){20, 8}, 12, &e);
    CHECK(c != 0);
    CHECK_EQ(released, 2); /* b and the 30-byte block */
    CHECK_EQ(((unsigned char *)c)[11], 0x5a);
    CHECK_EQ(hl_tracker_level_of(&t, hl_tracker_find(&t, c)), 1);
    CHECK_EQ(hl_tracker_exit(&t, &host, s2), HL_E_INVALID_ARGUMENT);
    released = 0;
    CHECK_EQ(hl_tracker_exit(&t, &host, s1), HL_E_OK);
    CHECK_EQ(released, 2); /* a and the survivor */
    CHECK_EQ(t.live_blocks, 0);
    CHECK_EQ(t.depth, 0);
    hl_scope s3;
    CHECK_EQ(hl_tracker_enter(&t, &s3), HL_E_OK);
    CHECK(s3 != s1 && s3 != s2); /* handles are never reused */
    hl_tracker_release_memory(&t);
}

TEST(random_adds_and_removes_match_a_reference)
{
    hl_tracker t;
    hl_tracker_init(&t, (hl_tracker_memory){NULL, get, put, true}, true, false);
    enum { N = 4000 };
    static hl_addr live[N];
    int count = 0;
    srand(7);
    for (int step = 0; step < 200000; step++) {
        if (count < N && (count == 0 || rand() % 2)) {
            hl_addr a = (hl_addr)(16 * (1 + (unsigned)rand() % 100000));
            if (hl_tracker_find(&t, a)) continue;
            CHECK_EQ(hl_tracker_add(&t, a, (hl_layout){8, 8}, 0), HL_E_OK);
            live[count++] = a;
        } else {
            int i = rand() % count;
            hl_tracker_remove(&t, live[i]);
            CHECK(hl_tracker_find(&t, live[i]) == NULL);
            live[i] = live[--count];
        }
    }
    for (int i = 0; i < count; i++) CHECK(hl_tracker_find(&t, live[i]) != NULL);
    CHECK_EQ(t.live_blocks, count);
    char why[200];
    CHECK_EQ(hl_tracker_check(&t, why, sizeof why), HL_E_OK);
    hl_tracker_release_memory(&t);
}

/* free_all scans the table; deletions shift records back into the slot being looked
 * at, so every live block must still be released exactly once, in both modes. */
static void each_live_releases_every_block(bool remember)
{
    hl_tracker t;
    hl_tracker_init(&t, (hl_tracker_memory){NULL, get, put, true}, true, remember);
    srand(11);
    int live = 0;
    for (int i = 0; i < 3000; i++) {
        hl_addr a = (hl_addr)(16 * (1 + (unsigned)rand() % 20000));
        const hl_tracked *r = hl_tracker_find(&t, a);
        if (r && r->live) continue;
        CHECK_EQ(hl_tracker_add(&t, a, (hl_layout){24, 8}, 0), HL_E_OK);
        live++;
        if (rand() % 3 == 0) {
            CHECK_EQ(hl_tracker_free(&t, a, (hl_layout){24, 8}, true), HL_E_OK);
            live--;
        }
    }
    released = 0;
    hl_tracker_each_live(&t, count_only, NULL);
    CHECK_EQ(released, live);
    CHECK_EQ(t.live_blocks, 0);
    char why[200];
    CHECK_EQ(hl_tracker_check(&t, why, sizeof why), HL_E_OK);
    hl_tracker_release_memory(&t);
}

TEST(free_all_releases_each_live_block_once)
{
    each_live_releases_every_block(false);
    each_live_releases_every_block(true);
}

TEST(free_classifies_and_removes_in_one_call)
{
    hl_tracker t;
    hl_tracker_init(&t, (hl_tracker_memory){NULL, get, put, true}, true, true);
    CHECK_EQ(hl_tracker_add(&t, 4096, (hl_layout){40, 64}, 0), HL_E_OK);
    CHECK_EQ(hl_tracker_free(&t, 4096, (hl_layout){40, 32}, true), HL_E_LAYOUT_MISMATCH);
    CHECK_EQ(hl_tracker_free(&t, 4112, (hl_layout){40, 64}, true), HL_E_INVALID_POINTER);
    CHECK_EQ(t.live_blocks, 1); /* refused frees change nothing */
    CHECK_EQ(hl_tracker_free(&t, 4096, (hl_layout){40, 64}, true), HL_E_OK);
    CHECK_EQ(t.live_blocks, 0);
    CHECK_EQ(hl_tracker_free(&t, 4096, (hl_layout){40, 64}, true), HL_E_DOUBLE_FREE);
    CHECK_EQ(hl_tracker_free(&t, 8192, (hl_layout){1, 1}, false), HL_E_OK); /* untracked, unchecked */
    hl_tracker_release_memory(&t);
}

/* free_all then clear, as a persistent instance does input after input: the freed
 * addresses of the rounds before are forgotten (a free of one is INVALID_POINTER, as
 * on a new instance), and the table stays the size of one round, not of all of them */
TEST(clear_after_free_all_forgets_the_freed_and_keeps_the_table_small)
{
    hl_tracker t;
    hl_tracker_init(&t, (hl_tracker_memory){NULL, get, put, true}, true, true);
    hl_scope scope;
    for (hl_addr round = 0; round < 100; round++) {
        hl_addr base = 1u << 20 | round << 12; /* addresses of this round only */
        CHECK_EQ(hl_tracker_enter(&t, &scope), HL_E_OK);
        for (hl_addr i = 0; i < 50; i++) CHECK_EQ(hl_tracker_add(&t, base + 16 * i, (hl_layout){16, 8}, 0), HL_E_OK);
        for (hl_addr i = 0; i < 50; i += 2) CHECK_EQ(hl_tracker_free(&t, base + 16 * i, (hl_layout){16, 8}, true), HL_E_OK);
        CHECK_EQ(hl_tracker_free(&t, base, (hl_layout){16, 8}, true), HL_E_DOUBLE_FREE);
        released = 0;
        hl_tracker_each_live(&t, count_only, NULL);
        CHECK_EQ(released, 25);
        hl_tracker_clear(&t);
        CHECK_EQ(t.live_blocks, 0);
        CHECK_EQ(t.depth, 0);
        CHECK_EQ(hl_tracker_free(&t, base, (hl_layout){16, 8}, true), HL_E_INVALID_POINTER);
        CHECK_EQ(hl_tracker_free(&t, base + 16, (hl_layout){16, 8}, true), HL_E_INVALID_POINTER);
        char why[200];
        CHECK_EQ(hl_tracker_check(&t, why, sizeof why), HL_E_OK);
    }
    CHECK(t.table_mask + 1 <= 256); /* one round's 50 records at load 1/2, not 100 rounds' 5,000 */
    hl_tracker_release_memory(&t);
}

static void *refuse(void *context, size_t bytes)
{
    (void)context, (void)bytes;
    return NULL;
}

TEST(no_memory_changes_nothing)
{
    hl_tracker t;
    hl_tracker_init(&t, (hl_tracker_memory){NULL, refuse, put, true}, true, true);
    hl_scope s;
    CHECK_EQ(hl_tracker_enter(&t, &s), HL_E_OUT_OF_MEMORY);
    CHECK_EQ(t.depth, 0);
    CHECK_EQ(hl_tracker_add(&t, 64, (hl_layout){8, 8}, 0), HL_E_OUT_OF_MEMORY);
    CHECK_EQ(t.live_blocks, 0);
    CHECK_EQ(hl_tracker_reserve(&t), HL_E_OUT_OF_MEMORY);
}

static hl_addr order[256];
static size_t ordered;
static void note_order(void *context, hl_addr addr, hl_layout layout)
{
    (void)context, (void)layout;
    if (ordered < 256) order[ordered] = addr;
    ordered++;
}

/* free_all frees the root blocks in address order, whatever order their hashes put
 * them in, so a replay frees a corrupted heap the same way every time; without a list
 * to sort in (put that gives nothing back) each is still freed once. */
TEST(free_all_frees_root_blocks_in_address_order)
{
    for (int returns = 1; returns >= 0; returns--) {
        hl_tracker t;
        hl_tracker_init(&t, (hl_tracker_memory){NULL, get, put, returns == 1}, true, false);
        for (uint64_t i = 0; i < 200; i++) /* addresses 4096 apart, added in a scrambled order */
            CHECK_EQ(hl_tracker_add(&t, 0x10000 + ((i * 73) % 200) * 4096, (hl_layout){64, 16}, 0), HL_E_OK);
        hl_tracker_remove(&t, 0x10000 + 7 * 4096);
        ordered = 0;
        hl_tracker_each_live(&t, note_order, NULL);
        CHECK_EQ(ordered, 199);
        CHECK_EQ(t.live_blocks, 0);
        bool rising = true;
        for (size_t i = 1; i < 199; i++) rising &= order[i] > order[i - 1];
        if (returns) CHECK(rising);
        hl_tracker_release_memory(&t);
    }
    CHECK_EQ(memory_in_use, 0);
}

int main(void)
{
    RUN(misuse_classification);
    RUN(scopes_exit_and_promote);
    RUN(random_adds_and_removes_match_a_reference);
    RUN(no_memory_changes_nothing);
    RUN(free_all_releases_each_live_block_once);
    RUN(free_classifies_and_removes_in_one_call);
    RUN(free_all_frees_root_blocks_in_address_order);
    RUN(clear_after_free_all_forgets_the_freed_and_keeps_the_table_small);
    return unit_summary();
}
