/* test_bins.c: the bins backend. The first group ports seed 003's unit tests (the
 * lite-alloc SegregatedBumpAllocator's behavioural spec) to C; the rest is the part
 * of the contract the seed does not cover. */
#include "backend_util.h"
#include "unit.h"

#define BINS (hl_backend_bins())

static instance in;

static void open_bins(const char *options)
{
    hl_error e = make_instance(&in, BINS, options, strstr(options, "static") ? 1u << 20 : 0);
    if (e != HL_E_OK) fprintf(stderr, "create(%s): %s\n", options, in.error);
    CHECK_EQ(e, HL_E_OK);
}

/* ---------------------------------------------------------------- seed 003 */

TEST(small_alloc_reuse)
{
    open_bins("source=linear");
    hl_addr p1 = alloc_in(&in, 16, 8);
    CHECK(p1 != 0);
    CHECK_EQ(BINS->free(in.heap, p1, (hl_layout){16, 8}), HL_E_OK);
    CHECK_EQ(alloc_in(&in, 16, 8), p1); /* LIFO: the same block comes back */
    drop_instance(&in);
}

TEST(cross_bin_isolation)
{
    open_bins("");
    hl_addr p0 = alloc_in(&in, 10, 1), p1 = alloc_in(&in, 20, 1);
    CHECK(p0 != p1);
    BINS->free(in.heap, p0, (hl_layout){10, 1});
    hl_addr p2 = alloc_in(&in, 20, 1);
    CHECK(p2 != p0); /* a 32-byte request never takes a 16-byte block */
    CHECK_EQ(alloc_in(&in, 10, 1), p0);
    drop_instance(&in);
}

TEST(large_alloc_bypass)
{
    open_bins("");
    hl_addr p1 = alloc_in(&in, 200, 16);
    BINS->free(in.heap, p1, (hl_layout){200, 16});
    CHECK(alloc_in(&in, 200, 16) != p1); /* large blocks are not reused */
    drop_instance(&in);
}

TEST(memory_growth)
{
    open_bins("source=linear");
    uint64_t before = stats_of(&in).footprint;
    hl_addr p1 = alloc_in(&in, 40 * 1024, 16), p2 = alloc_in(&in, 40 * 1024, 16);
    CHECK(p1 && p2 && p1 != p2);
    CHECK(p2 - p1 >= 40 * 1024);
    CHECK(stats_of(&in).footprint >= before + 65536); /* a second 64 KiB page was grown */
    drop_instance(&in);
}

TEST(high_alignment)
{
    open_bins("");
    hl_addr p1 = alloc_in(&in, 32, 128);
    CHECK(p1 != 0 && p1 % 128 == 0);
    CHECK_EQ(BINS->free(in.heap, p1, (hl_layout){32, 128}), HL_E_OK);
    drop_instance(&in);
}

TEST(realloc_shrink_in_place)
{
    open_bins("");
    hl_addr p = alloc_in(&in, 100, 16);
    fill(&in, p, 100, 0xcc);
    hl_error e = HL_E_OK;
    hl_addr q = BINS->realloc(in.heap, p, (hl_layout){100, 16}, 80, &e);
    CHECK_EQ(q, p);
    CHECK(holds(&in, q, 80, 0xcc));
    drop_instance(&in);
}

TEST(realloc_grow_large_at_top)
{
    open_bins("");
    hl_addr p = alloc_in(&in, 256, 16);
    fill(&in, p, 256, 0xaa);
    hl_error e = HL_E_OK;
    hl_addr q = BINS->realloc(in.heap, p, (hl_layout){256, 16}, 512, &e);
    CHECK_EQ(q, p); /* at the top of the bump region: grows in place */
    CHECK(holds(&in, q, 256, 0xaa));
    drop_instance(&in);
}

TEST(realloc_move)
{
    open_bins("");
    alloc_in(&in, 64, 16);
    hl_addr p = alloc_in(&in, 256, 16);
    alloc_in(&in, 64, 16);
    fill(&in, p, 256, 0xbb);
    hl_error e = HL_E_OK;
    hl_addr q = BINS->realloc(in.heap, p, (hl_layout){256, 16}, 512, &e);
    CHECK(q != 0 && q != p);
    CHECK(holds(&in, q, 256, 0xbb));
    CHECK(healthy(&in));
    drop_instance(&in);
}

/* ---------------------------------------------------------------- contract */

TEST(alignments_on_every_source)
{
    const char *sources[] = {"source=os", "source=static", "source=linear"};
    for (int s = 0; s < 3; s++) {
        open_bins(sources[s]);
        for (size_t align = 1; align <= 4096; align *= 2)
            for (size_t size = 0; size <= 300; size += 75) {
                hl_addr p = alloc_in(&in, size, align);
                CHECK(p != 0);
                CHECK_EQ(p % (align > 16 ? align : 16), 0);
            }
        CHECK(healthy(&in));
        drop_instance(&in);
    }
}

TEST(linear_addresses_are_offsets_above_the_heap_base)
{
    open_bins("source=linear:max_pages=4");
    hl_addr p = alloc_in(&in, 0, 1);
    CHECK(p >= 1024 && p < 4 * 65536);
    CHECK(BINS->mem_view(in.heap, p, 16) != NULL);
    CHECK(BINS->mem_view(in.heap, 4 * 65536, 1) == NULL); /* beyond the memory */
    hl_error e = HL_E_OK;
    CHECK_EQ(BINS->alloc(in.heap, (hl_layout){5 * 65536, 16}, 0, &e), 0);
    CHECK_EQ(e, HL_E_OUT_OF_MEMORY); /* max_pages holds */
    hl_info info;
    BINS->describe(in.heap, &info);
    CHECK(info.features & HL_FEATURE_LINEAR_MEMORY);
    CHECK_EQ(info.page_size, 65536);
    drop_instance(&in);
}

TEST(static_exhaustion_leaves_everything_intact)
{
    CHECK_EQ(make_instance(&in, BINS, "source=static:size=64K", 64 * 1024), HL_E_OK);
    hl_addr blocks[128];
    int n = 0;
    for (; n < 128; n++) {
        blocks[n] = alloc_in(&in, 1000, 16);
        if (!blocks[n]) break;
        fill(&in, blocks[n], 1000, (unsigned char)n);
    }
    CHECK(n > 10 && n < 128);
    hl_stats before = stats_of(&in);
    hl_error e = HL_E_OK;
    CHECK_EQ(BINS->alloc(in.heap, (hl_layout){1000, 16}, 0, &e), 0);
    CHECK_EQ(e, HL_E_OUT_OF_MEMORY);
    /* realloc failure: the old block stays live with its bytes */
    CHECK_EQ(BINS->realloc(in.heap, blocks[0], (hl_layout){1000, 16}, 20000, &e), 0);
    CHECK_EQ(e, HL_E_OUT_OF_MEMORY);
    for (int i = 0; i < n; i++) CHECK(holds(&in, blocks[i], 1000, (unsigned char)i));
    CHECK_EQ(stats_of(&in).live_blocks, before.live_blocks);
    CHECK_EQ(stats_of(&in).live_bytes, before.live_bytes);
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(scopes_free_exactly_the_inner_blocks)
{
    open_bins("detect=0");
    hl_addr outer = alloc_in(&in, 24, 8);
    fill(&in, outer, 24, 1);
    hl_scope s1, s2;
    CHECK_EQ(BINS->enter_scope(in.heap, &s1), HL_E_OK);
    alloc_in(&in, 40, 8);
    CHECK_EQ(BINS->enter_scope(in.heap, &s2), HL_E_OK);
    alloc_in(&in, 300, 8);
    hl_addr keep = alloc_in(&in, 100, 8);
    fill(&in, keep, 100, 9);
    CHECK_EQ(stats_of(&in).live_blocks, 4);
    hl_error e = HL_E_OK;
    hl_addr survivor = BINS->promote(in.heap, s2, keep, (hl_layout){100, 8}, 60, &e);
    CHECK(survivor != 0);
    CHECK(holds(&in, survivor, 60, 9));
    CHECK_EQ(stats_of(&in).live_blocks, 3); /* outer, s1's block, the survivor in s1 */
    CHECK_EQ(BINS->exit_scope(in.heap, s2), HL_E_INVALID_ARGUMENT); /* already closed */
    CHECK_EQ(BINS->exit_scope(in.heap, s1), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 1);
    CHECK_EQ(stats_of(&in).live_bytes, 24);
    CHECK(holds(&in, outer, 24, 1));
    CHECK_EQ(BINS->exit_scope(in.heap, 12345), HL_E_INVALID_ARGUMENT);
    hl_stats stats = stats_of(&in); /* the scope tracker counts the scope operations */
    CHECK_EQ(stats.calls[HL_STAT_enter_scope], 2);
    CHECK_EQ(stats.calls[HL_STAT_exit_scope], 3);
    CHECK_EQ(stats.failures[HL_STAT_exit_scope], 2);
    CHECK_EQ(stats.calls[HL_STAT_promote], 1);
    CHECK_EQ(stats.failures[HL_STAT_promote], 0);
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(promote_out_of_memory_keeps_scopes_open)
{
    CHECK_EQ(make_instance(&in, BINS, "source=static:size=16K", 16 * 1024), HL_E_OK);
    hl_scope s;
    CHECK_EQ(BINS->enter_scope(in.heap, &s), HL_E_OK);
    hl_addr big = alloc_in(&in, 9000, 16);
    CHECK(big != 0);
    fill(&in, big, 9000, 3);
    hl_error e = HL_E_OK;
    CHECK_EQ(BINS->promote(in.heap, s, big, (hl_layout){9000, 16}, 9000, &e), 0);
    CHECK_EQ(e, HL_E_OUT_OF_MEMORY);
    CHECK(holds(&in, big, 9000, 3));
    CHECK_EQ(stats_of(&in).live_blocks, 1);
    CHECK_EQ(BINS->exit_scope(in.heap, s), HL_E_OK); /* still open */
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    drop_instance(&in);
}

TEST(free_all_makes_it_as_new)
{
    open_bins("");
    hl_addr first = alloc_in(&in, 16, 1);
    for (int i = 0; i < 100; i++) alloc_in(&in, (size_t)i * 13, 8);
    hl_scope s;
    BINS->enter_scope(in.heap, &s);
    alloc_in(&in, 50, 8);
    CHECK_EQ(BINS->free_all(in.heap), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    CHECK_EQ(stats_of(&in).live_bytes, 0);
    CHECK_EQ(BINS->exit_scope(in.heap, s), HL_E_INVALID_ARGUMENT);
    CHECK_EQ(alloc_in(&in, 16, 1), first);
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(misuse_is_detected_with_detect_on)
{
    open_bins("");
    hl_info info;
    BINS->describe(in.heap, &info);
    CHECK_EQ(info.misuse, HL_MISUSE_FREE_KINDS);
    hl_addr a = alloc_in(&in, 48, 8), b = alloc_in(&in, 48, 8);
    CHECK_EQ(BINS->free(in.heap, a, (hl_layout){48, 8}), HL_E_OK);
    CHECK_EQ(BINS->free(in.heap, a, (hl_layout){48, 8}), HL_E_DOUBLE_FREE);
    CHECK_EQ(BINS->free(in.heap, b + 8, (hl_layout){40, 8}), HL_E_INVALID_POINTER);
    CHECK_EQ(BINS->free(in.heap, b, (hl_layout){32, 8}), HL_E_LAYOUT_MISMATCH);
    CHECK_EQ(stats_of(&in).live_blocks, 1); /* b is still live */
    CHECK_EQ(BINS->free(in.heap, b, (hl_layout){48, 8}), HL_E_OK);
    CHECK(healthy(&in));
    drop_instance(&in);
    open_bins("detect=0");
    BINS->describe(in.heap, &info);
    CHECK_EQ(info.misuse, 0);
    drop_instance(&in);
}

TEST(check_finds_a_scribbled_free_list)
{
    open_bins("detect=0");
    hl_addr a = alloc_in(&in, 16, 1), b = alloc_in(&in, 16, 1);
    BINS->free(in.heap, a, (hl_layout){16, 1});
    BINS->free(in.heap, b, (hl_layout){16, 1});
    CHECK(healthy(&in));
    hl_addr *link = BINS->mem_view(in.heap, b, sizeof(hl_addr));
    *link = 0x12345; /* a use after free writes over the list link */
    char message[300] = "";
    CHECK_EQ(BINS->check(in.heap, message, sizeof message), HL_E_CORRUPTED);
    CHECK(strstr(message, "free list 0") != NULL);
    *link = b; /* a cycle */
    CHECK_EQ(BINS->check(in.heap, message, sizeof message), HL_E_CORRUPTED);
    CHECK(strstr(message, "cycle") != NULL);
    drop_instance(&in);
}

TEST(errors_for_bad_layouts_and_caps)
{
    open_bins("");
    hl_error e = HL_E_OK;
    CHECK_EQ(BINS->alloc(in.heap, (hl_layout){16, 3}, 0, &e), 0);
    CHECK_EQ(e, HL_E_INVALID_ARGUMENT);
    CHECK_EQ(BINS->alloc(in.heap, (hl_layout){16, 16}, HL_CAP_EXEC, &e), 0);
    CHECK_EQ(e, HL_E_UNSUPPORTED);
    CHECK_EQ(BINS->alloc(in.heap, (hl_layout){16, 1u << 20}, 0, &e), 0);
    CHECK_EQ(e, HL_E_UNSUPPORTED);
    CHECK_EQ(BINS->free(in.heap, 0, (hl_layout){16, 16}), HL_E_OK);
    CHECK_EQ(stats_of(&in).failures[HL_STAT_alloc], 3);
    drop_instance(&in);
}

TEST(options_are_checked)
{
    CHECK_EQ(make_instance(&in, BINS, "colour=red", 0), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(in.error, "unknown option 'colour'") != NULL);
    CHECK_EQ(make_instance(&in, BINS, "source=floppy", 0), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(in.error, "source='floppy'") != NULL);
    CHECK_EQ(make_instance(&in, BINS, "source=static", 0), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(in.error, "needs a caller buffer") != NULL);
    CHECK_EQ(make_instance(&in, BINS, "detect=2", 0), HL_E_INVALID_ARGUMENT);
}

TEST(mem_copy_walks_forward)
{
    open_bins("");
    hl_addr p = alloc_in(&in, 64, 16);
    unsigned char *bytes = BINS->mem_view(in.heap, p, 64);
    for (int i = 0; i < 64; i++) bytes[i] = (unsigned char)i;
    CHECK_EQ(BINS->mem_copy(in.heap, p + 1, p, 8), HL_E_OK); /* dst > src, overlapping */
    for (int i = 0; i <= 8; i++) CHECK_EQ(bytes[i], 0); /* byte 0 walks forward */
    CHECK_EQ(bytes[9], 9);
    CHECK_EQ(BINS->mem_copy(in.heap, 8, p, 8), HL_E_INVALID_ARGUMENT);
    drop_instance(&in);
}

/* Found by the fuzzer: a 54-byte block (class 64) at the bump top grown to 82 bytes
 * in place must take all of class 128's capacity, or its free puts a short block on
 * the 128-byte list that overlaps the next bump block. */
TEST(growing_at_the_top_takes_the_new_class_capacity)
{
    open_bins("");
    hl_error e = HL_E_OK;
    hl_addr p = alloc_in(&in, 54, 16);
    hl_addr q = in.backend->realloc(in.heap, p, (hl_layout){54, 16}, 82, &e);
    CHECK_EQ(q, p);
    hl_addr next = alloc_in(&in, 200, 16);
    CHECK(next >= p + 128);
    CHECK_EQ(in.backend->free(in.heap, q, (hl_layout){82, 16}), HL_E_OK);
    CHECK(healthy(&in));
    CHECK_EQ(alloc_in(&in, 100, 16), p); /* the whole class-128 block comes back */
    drop_instance(&in);
}

int main(void)
{
    RUN(growing_at_the_top_takes_the_new_class_capacity);
    RUN(small_alloc_reuse);
    RUN(cross_bin_isolation);
    RUN(large_alloc_bypass);
    RUN(memory_growth);
    RUN(high_alignment);
    RUN(realloc_shrink_in_place);
    RUN(realloc_grow_large_at_top);
    RUN(realloc_move);
    RUN(alignments_on_every_source);
    RUN(linear_addresses_are_offsets_above_the_heap_base);
    RUN(static_exhaustion_leaves_everything_intact);
    RUN(scopes_free_exactly_the_inner_blocks);
    RUN(promote_out_of_memory_keeps_scopes_open);
    RUN(free_all_makes_it_as_new);
    RUN(misuse_is_detected_with_detect_on);
    RUN(check_finds_a_scribbled_free_list);
    RUN(errors_for_bad_layouts_and_caps);
    RUN(options_are_checked);
    RUN(mem_copy_walks_forward);
    return unit_summary();
}
