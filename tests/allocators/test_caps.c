/* test_caps.c: capability regions: a function written into an EXEC block, sealed and
 * called; EXEC blocks on pages of their own, never writable and executable at once;
 * DMA blocks in the window on cache lines of their own; caps kept through realloc and
 * promote; UNSUPPORTED for what the instance lacks. */
#include "backend_util.h"
#include "unit.h"

#include <stdint.h>

static hl_addr alloc_caps(instance *in, size_t size, size_t align, hl_caps caps, hl_error *e)
{
    *e = HL_E_OK;
    return in->backend->alloc(in->heap, (hl_layout){size, align}, caps, e);
}

TEST(a_sealed_exec_block_runs_code)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_caps(), "", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_error e;
    hl_addr code = alloc_caps(&in, 16, 16, HL_CAP_EXEC, &e);
    CHECK(code != 0);
#if defined(__x86_64__)
    static const unsigned char body[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3}; /* mov eax, 42; ret */
#elif defined(__aarch64__)
    static const unsigned char body[] = {0x40, 0x05, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6}; /* mov w0, #42; ret */
#else
    static const unsigned char body[1] = {0};
#endif
    memcpy(b->mem_view(in.heap, code, sizeof body), body, sizeof body);
    CHECK_STR(perms_of(code), "rw-p"); /* writable, not executable */
    CHECK_EQ(b->seal(in.heap, code, sizeof body), HL_E_OK);
    CHECK_STR(perms_of(code), "r-xp"); /* executable, not writable */
#if defined(__x86_64__) || defined(__aarch64__)
    int (*fn)(void);
    void *entry = b->mem_view(in.heap, code, sizeof body);
    memcpy(&fn, &entry, sizeof fn);
    CHECK_EQ(fn(), 42);
#endif
    CHECK_EQ(b->unseal(in.heap, code, sizeof body), HL_E_OK);
    CHECK_STR(perms_of(code), "rw-p");
    CHECK_EQ(b->seal(in.heap, code, 0), HL_E_INVALID_ARGUMENT);
    hl_addr plain = alloc_caps(&in, 16, 16, HL_CAP_NONE, &e);
    CHECK_EQ(b->seal(in.heap, plain, 16), HL_E_INVALID_ARGUMENT); /* not in the exec region */
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(exec_blocks_own_their_pages_and_dma_blocks_their_lines)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_caps(), "", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_info info;
    b->describe(in.heap, &info);
    CHECK(info.features & HL_FEATURE_CAP_EXEC && info.features & HL_FEATURE_CAP_DMA);
    CHECK_EQ(info.dma_size, 1u << 20);
    hl_error e;
    hl_addr x1 = alloc_caps(&in, 10, 8, HL_CAP_EXEC, &e), x2 = alloc_caps(&in, 10, 8, HL_CAP_EXEC, &e);
    CHECK(x1 / 4096 != x2 / 4096 && x1 % 4096 == 0 && x2 % 4096 == 0);
    CHECK_EQ(b->usable_size(in.heap, x1, (hl_layout){10, 8}), 4096);
    CHECK(x1 >= info.exec_base && x1 < info.exec_base + info.exec_size);
    hl_addr d1 = alloc_caps(&in, 1, 1, HL_CAP_DMA, &e), d2 = alloc_caps(&in, 65, 1, HL_CAP_DMA, &e);
    hl_addr d3 = alloc_caps(&in, 10, 256, HL_CAP_DMA, &e);
    CHECK(d1 % 64 == 0 && d2 % 64 == 0 && d3 % 256 == 0);
    /* their whole lines are disjoint: [d1, +64), [d2, +128), [d3, +64) */
    CHECK((d1 + 64 <= d2 || d2 + 128 <= d1) && (d2 + 128 <= d3 || d3 + 64 <= d2) && (d1 + 64 <= d3 || d3 + 64 <= d1));
    CHECK_EQ(b->usable_size(in.heap, d2, (hl_layout){65, 1}), 128);
    CHECK(d1 >= info.dma_base && d3 < info.dma_base + info.dma_size);
    hl_addr p = alloc_caps(&in, 10, 8, HL_CAP_NONE, &e);
    CHECK(p < info.dma_base || p >= info.dma_base + info.dma_size);
    CHECK(p < info.exec_base || p >= info.exec_base + info.exec_size);
    CHECK_EQ(alloc_caps(&in, 10, 8, HL_CAP_EXEC | HL_CAP_DMA, &e), 0);
    CHECK_EQ(e, HL_E_UNSUPPORTED); /* no block lies in both regions */
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(caps_survive_realloc_and_promote)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_caps(), "", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_info info;
    b->describe(in.heap, &info);
    hl_error e;
    hl_addr d = alloc_caps(&in, 100, 64, HL_CAP_DMA, &e);
    fill(&in, d, 100, 4);
    hl_addr grown = b->realloc(in.heap, d, (hl_layout){100, 64}, 5000, &e);
    CHECK(grown >= info.dma_base && grown < info.dma_base + info.dma_size && grown % 64 == 0);
    CHECK(holds(&in, grown, 100, 4));
    hl_scope s;
    CHECK_EQ(b->enter_scope(in.heap, &s), HL_E_OK);
    hl_addr x = alloc_caps(&in, 300, 16, HL_CAP_EXEC, &e);
    fill(&in, x, 300, 8);
    hl_addr kept = b->promote(in.heap, s, x, (hl_layout){300, 16}, 200, &e);
    CHECK(kept >= info.exec_base && kept < info.exec_base + info.exec_size && kept % 4096 == 0);
    CHECK(holds(&in, kept, 200, 8));
    CHECK_EQ(stats_of(&in).live_blocks, 2);
    CHECK(healthy(&in));
    CHECK_EQ(b->free_all(in.heap), HL_E_OK);
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(the_dma_window_is_fixed_and_missing_caps_are_unsupported)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_caps(), "dma=4K:exec=0", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_error e;
    hl_addr blocks[64];
    int n = 0;
    while (n < 64 && (blocks[n] = alloc_caps(&in, 64, 64, HL_CAP_DMA, &e)) != 0) n++;
    CHECK_EQ(n, 64); /* 4 KiB: 64 lines */
    CHECK_EQ(alloc_caps(&in, 1, 1, HL_CAP_DMA, &e), 0);
    CHECK_EQ(e, HL_E_OUT_OF_MEMORY);
    CHECK_EQ(b->free(in.heap, blocks[10], (hl_layout){64, 64}), HL_E_OK);
    CHECK_EQ(alloc_caps(&in, 1, 1, HL_CAP_DMA, &e), blocks[10]);
    CHECK_EQ(alloc_caps(&in, 1, 1, HL_CAP_EXEC, &e), 0);
    CHECK_EQ(e, HL_E_UNSUPPORTED);
    hl_addr d = blocks[0];
    CHECK_EQ(b->free(in.heap, d, (hl_layout){32, 64}), HL_E_LAYOUT_MISMATCH);
    CHECK(healthy(&in));
    drop_instance(&in);
    CHECK_EQ(make_instance(&in, hl_backend_caps(), "dma=lots", 0), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(in.error, "lots") != NULL);
}

/* Found by the fuzzer: EXEC and DMA blocks with an alignment above the unit are
 * aligned in the address space, not relative to the region's start. */
TEST(large_alignments_hold_in_the_address_space)
{
    instance in; /* small regions: their mappings are not placed on 2 MiB boundaries */
    CHECK_EQ(make_instance(&in, hl_backend_caps(), "exec=256K:dma=256K", 0), HL_E_OK);
    hl_error e;
    for (size_t align = 8192; align <= 65536; align *= 2) {
        hl_addr x = alloc_caps(&in, 100, align, HL_CAP_EXEC, &e), d = alloc_caps(&in, 100, align, HL_CAP_DMA, &e);
        CHECK(x != 0 && x % align == 0);
        CHECK(d != 0 && d % align == 0);
    }
    CHECK(healthy(&in));
    drop_instance(&in);
}

/* Its tracker's tables live in a 1 GiB bump region: caps declares the live blocks
 * they can hold (4,194,304) and refuses the next with CAPACITY, the declared limit,
 * not OUT_OF_MEMORY. (A freed address stays in the table, remembered for DOUBLE_FREE,
 * so at the limit a free does not make room: OUT_OF_MEMORY, as the contract allows.) */
TEST(the_declared_live_block_capacity_holds_exactly)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_caps(), "", 0), HL_E_OK);
    hl_info info;
    in.backend->describe(in.heap, &info);
    CHECK_EQ(info.max_live_blocks, 4194304);
    hl_error e = HL_E_OK;
    hl_addr last = 0;
    uint64_t served = 0;
    for (; served < info.max_live_blocks; served++) {
        last = alloc_caps(&in, 8, 16, HL_CAP_NONE, &e);
        if (!last) break;
    }
    CHECK_EQ(served, info.max_live_blocks);
    CHECK_EQ(alloc_caps(&in, 8, 16, HL_CAP_NONE, &e), 0);
    CHECK_EQ(e, HL_E_CAPACITY);
    CHECK_EQ(in.backend->free(in.heap, last, (hl_layout){8, 16}), HL_E_OK);
    drop_instance(&in);
}

int main(void)
{
    RUN(large_alignments_hold_in_the_address_space);
    RUN(a_sealed_exec_block_runs_code);
    RUN(exec_blocks_own_their_pages_and_dma_blocks_their_lines);
    RUN(caps_survive_realloc_and_promote);
    RUN(the_dma_window_is_fixed_and_missing_caps_are_unsupported);
    RUN(the_declared_live_block_capacity_holds_exactly);
    return unit_summary();
}
