/* test_arena.c: the scoped bump arena (seed 001's behaviour, as an instance):
 * O(1) scopes whose chunks are reused, promote (also under OOM), what free reclaims,
 * realloc keeping a block's scope, big blocks, depth limits, the heap check. */
#include "backend_util.h"
#include "unit.h"

static hl_addr alloc_ok(instance *in, size_t size, size_t align)
{
    hl_addr p = alloc_in(in, size, align);
    CHECK(p != 0);
    return p;
}

TEST(scopes_free_their_blocks_and_reuse_their_chunks)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_addr outer = alloc_ok(&in, 100, 16);
    fill(&in, outer, 100, 3);
    uint64_t footprint = 0;
    for (int round = 0; round < 5; round++) {
        hl_scope s;
        CHECK_EQ(b->enter_scope(in.heap, &s), HL_E_OK);
        for (int i = 0; i < 20000; i++) alloc_ok(&in, 24 + (size_t)(i % 40), 8); /* about 1 MiB: many chunks */
        CHECK_EQ(stats_of(&in).live_blocks, 20001);
        CHECK_EQ(b->exit_scope(in.heap, s), HL_E_OK);
        CHECK_EQ(stats_of(&in).live_blocks, 1);
        CHECK_EQ(stats_of(&in).live_bytes, 100);
        if (round == 0) footprint = stats_of(&in).footprint;
        CHECK_EQ(stats_of(&in).footprint, footprint); /* later rounds reuse the same chunks */
        CHECK(healthy(&in));
    }
    CHECK(holds(&in, outer, 100, 3));
    drop_instance(&in);
}

TEST(exit_through_an_outer_handle_closes_the_inner_scopes)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_scope s1, s2, s3;
    CHECK_EQ(b->enter_scope(in.heap, &s1), HL_E_OK);
    alloc_ok(&in, 10, 1);
    CHECK_EQ(b->enter_scope(in.heap, &s2), HL_E_OK);
    alloc_ok(&in, 20, 1);
    CHECK_EQ(b->enter_scope(in.heap, &s3), HL_E_OK);
    alloc_ok(&in, 30, 1);
    CHECK_EQ(b->exit_scope(in.heap, s2), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 1);
    CHECK_EQ(b->exit_scope(in.heap, s3), HL_E_INVALID_ARGUMENT); /* closed with s2 */
    CHECK_EQ(b->exit_scope(in.heap, 12345), HL_E_INVALID_ARGUMENT);
    CHECK_EQ(b->exit_scope(in.heap, s1), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(promote_moves_the_prefix_to_the_parent)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_scope s1, s2;
    CHECK_EQ(b->enter_scope(in.heap, &s1), HL_E_OK);
    CHECK_EQ(b->enter_scope(in.heap, &s2), HL_E_OK);
    hl_addr p = alloc_ok(&in, 64, 32);
    fill(&in, p, 64, 9);
    alloc_ok(&in, 500, 16);
    hl_error e = HL_E_OK;
    CHECK_EQ(b->promote(in.heap, s2, p, (hl_layout){64, 32}, 65, &e), 0); /* n > size */
    CHECK_EQ(e, HL_E_INVALID_ARGUMENT);
    hl_addr q = b->promote(in.heap, s2, p, (hl_layout){64, 32}, 40, &e);
    CHECK(q != 0 && q % 32 == 0);
    CHECK(holds(&in, q, 40, 9));
    CHECK_EQ(stats_of(&in).live_blocks, 1);
    CHECK_EQ(stats_of(&in).live_bytes, 40);
    /* the survivor belongs to s1: it goes when s1 exits */
    CHECK_EQ(b->exit_scope(in.heap, s1), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(promote_out_of_memory_changes_nothing)
{
    instance in; /* 256 KiB buffer, 16 KiB chunks: the state and a few chunks fit */
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "source=static:chunk=16K", 256u << 10), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_scope s;
    CHECK_EQ(b->enter_scope(in.heap, &s), HL_E_OK);
    hl_addr p = 0;
    hl_error e = HL_E_OK;
    /* fill the buffer with one level's chunks, then promote needs a chunk for level 0 */
    for (int i = 0; i < 1000; i++) {
        hl_addr q = b->alloc(in.heap, (hl_layout){4000, 16}, HL_CAP_NONE, &e);
        if (!q) break;
        if (!p) p = q;
    }
    CHECK_EQ(e, HL_E_OUT_OF_MEMORY);
    fill(&in, p, 4000, 5);
    hl_stats before = stats_of(&in);
    CHECK_EQ(b->promote(in.heap, s, p, (hl_layout){4000, 16}, 4000, &e), 0);
    CHECK_EQ(e, HL_E_OUT_OF_MEMORY);
    CHECK_EQ(stats_of(&in).live_blocks, before.live_blocks); /* the scope is still open, all intact */
    CHECK(holds(&in, p, 4000, 5));
    CHECK(healthy(&in));
    CHECK_EQ(b->exit_scope(in.heap, s), HL_E_OK);
    CHECK(alloc_in(&in, 4000, 16) != 0); /* usable again: the chunks came back */
    drop_instance(&in);
}

TEST(free_reclaims_the_last_block_and_empty_chunks)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_addr a = alloc_ok(&in, 48, 16), c = alloc_ok(&in, 48, 16);
    CHECK_EQ(b->free(in.heap, c, (hl_layout){48, 16}), HL_E_OK);
    CHECK_EQ(alloc_ok(&in, 48, 16), c); /* the last block's bytes came back */
    CHECK_EQ(b->free(in.heap, a, (hl_layout){48, 16}), HL_E_OK);
    hl_addr d = alloc_ok(&in, 48, 16);
    CHECK(d != a); /* a block in the middle stays allocated space */
    CHECK_EQ(stats_of(&in).live_blocks, 2);
    /* a big block has a chunk of its own, returned on free and reused first fit */
    hl_addr big = alloc_ok(&in, 300000, 16);
    uint64_t footprint = stats_of(&in).footprint;
    CHECK_EQ(b->free(in.heap, big, (hl_layout){300000, 16}), HL_E_OK);
    CHECK_EQ(alloc_ok(&in, 200000, 16), big);
    CHECK_EQ(stats_of(&in).footprint, footprint);
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(realloc_keeps_the_block_in_its_scope)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_error e = HL_E_OK;
    hl_addr p = alloc_ok(&in, 32, 16);
    fill(&in, p, 32, 1);
    hl_addr grown = b->realloc(in.heap, p, (hl_layout){32, 16}, 64, &e);
    CHECK_EQ(grown, p); /* the last block of its chunk grows in place */
    alloc_ok(&in, 8, 16);
    hl_scope s;
    CHECK_EQ(b->enter_scope(in.heap, &s), HL_E_OK);
    hl_addr moved = b->realloc(in.heap, p, (hl_layout){64, 16}, 5000, &e);
    CHECK(moved != 0 && moved != p);
    CHECK(holds(&in, moved, 32, 1));
    CHECK_EQ(b->exit_scope(in.heap, s), HL_E_OK);
    CHECK(holds(&in, moved, 32, 1)); /* it stayed in level 0 */
    CHECK_EQ(stats_of(&in).live_blocks, 2);
    CHECK_EQ(stats_of(&in).live_bytes, 5008);
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(depth_is_limited_and_deep_nesting_works)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_scope handles[256];
    for (int i = 0; i < 255; i++) {
        CHECK_EQ(b->enter_scope(in.heap, &handles[i]), HL_E_OK);
        alloc_ok(&in, 16, 16);
    }
    hl_scope extra;
    CHECK_EQ(b->enter_scope(in.heap, &extra), HL_E_OUT_OF_MEMORY);
    CHECK_EQ(stats_of(&in).live_blocks, 255);
    CHECK_EQ(b->exit_scope(in.heap, handles[64]), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 64);
    CHECK(healthy(&in));
    CHECK_EQ(b->free_all(in.heap), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    CHECK_EQ(b->enter_scope(in.heap, &extra), HL_E_OK); /* depth is back to 0 */
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(check_notices_a_damaged_chunk_and_options_are_checked)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "", 0), HL_E_OK);
    hl_addr p = alloc_ok(&in, 16, 16);
    unsigned char *chunk_start = in.backend->mem_view(in.heap, p & ~(hl_addr)((128u << 10) - 1), 4);
    chunk_start[0] ^= 0xff; /* the magic */
    char why[200] = "";
    CHECK_EQ(in.backend->check(in.heap, why, sizeof why), HL_E_CORRUPTED);
    CHECK(strstr(why, "is not a chunk") != NULL);
    chunk_start[0] ^= 0xff;
    CHECK(healthy(&in));
    drop_instance(&in);
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "chunk=3K", 0), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(in.error, "chunk='3K'") != NULL);
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "colour=red", 0), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(in.error, "unknown option 'colour'") != NULL);
}

/* Found by the fuzzer: blocks after a big block must not be bumped into its chunk
 * (their chunk is found by rounding the address down), and an instance that never
 * made a chunk passes its check. */
TEST(a_big_chunk_holds_one_block_and_an_empty_arena_is_healthy)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_arena(), "", 0), HL_E_OK);
    CHECK(healthy(&in)); /* no chunk yet */
    hl_error e = HL_E_OK;
    hl_addr big = alloc_ok(&in, 1u << 20, 16);
    hl_addr small = alloc_ok(&in, 139, 16);
    CHECK(small < big || small >= big + (1u << 20) + (128u << 10));
    hl_addr grown = in.backend->realloc(in.heap, small, (hl_layout){139, 16}, 167, &e);
    CHECK(grown != 0);
    CHECK_EQ(in.backend->free(in.heap, grown, (hl_layout){167, 16}), HL_E_OK);
    CHECK_EQ(in.backend->free(in.heap, big, (hl_layout){1u << 20, 16}), HL_E_OK);
    CHECK(healthy(&in));
    drop_instance(&in);
}

int main(void)
{
    RUN(a_big_chunk_holds_one_block_and_an_empty_arena_is_healthy);
    RUN(scopes_free_their_blocks_and_reuse_their_chunks);
    RUN(exit_through_an_outer_handle_closes_the_inner_scopes);
    RUN(promote_moves_the_prefix_to_the_parent);
    RUN(promote_out_of_memory_changes_nothing);
    RUN(free_reclaims_the_last_block_and_empty_chunks);
    RUN(realloc_keeps_the_block_in_its_scope);
    RUN(depth_is_limited_and_deep_nesting_works);
    RUN(check_notices_a_damaged_chunk_and_options_are_checked);
    return unit_summary();
}
