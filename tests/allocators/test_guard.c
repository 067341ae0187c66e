/* test_guard.c: the guard-page allocator's placement, protection, quarantine,
 * capacity, sampling and declarations. (Its faults are caught only by the release
 * driver: tests/test_guard.py drives those.) */
#include "backend_util.h"
#include "unit.h"

#include <stdint.h>

#define PAGE 4096u

static hl_info info_of(instance *in)
{
    hl_info info;
    in->backend->describe(in->heap, &info);
    return info;
}

TEST(blocks_sit_against_their_guard_page)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "", 0), HL_E_OK);
    for (size_t size = 0; size < 9000; size += 1111) {
        hl_addr p = alloc_in(&in, size, 16);
        size_t usable = in.backend->usable_size(in.heap, p, (hl_layout){size, 16});
        CHECK(usable >= size && usable - size < 16 + (size == 0));
        CHECK_EQ((p + usable) % PAGE, 0); /* the block ends where its guard page starts */
        CHECK_STR(perms_of(p + usable), "---p");
        CHECK_STR(perms_of(p), "rw-p");
    }
    drop_instance(&in);
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "at=start", 0), HL_E_OK);
    hl_addr q = alloc_in(&in, 100, 8);
    CHECK_EQ(q % PAGE, 0); /* at=start: the block starts its pages, the guard before */
    CHECK_STR(perms_of(q - 1), "---p");
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(freed_slots_are_quarantined_then_reused)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "quarantine=2", 0), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_layout l = {64, 16};
    hl_addr a = alloc_in(&in, 64, 16), c = alloc_in(&in, 64, 16), d = alloc_in(&in, 64, 16);
    CHECK_EQ(b->free(in.heap, a, l), HL_E_OK);
    CHECK_STR(perms_of(a), "---p"); /* freed: inaccessible */
    CHECK_EQ(b->free(in.heap, c, l), HL_E_OK);
    hl_addr e = alloc_in(&in, 64, 16);
    CHECK(e != a && e != c); /* both still in the quarantine */
    CHECK_EQ(b->free(in.heap, d, l), HL_E_OK); /* pushes a out of it */
    hl_addr f = alloc_in(&in, 64, 16);
    CHECK_EQ(f, a);
    CHECK_STR(perms_of(f), "rw-p");
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(capacity_is_declared_and_enforced)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "max_live=5", 0), HL_E_OK);
    CHECK_EQ(info_of(&in).max_live_blocks, 5);
    hl_addr blocks[5];
    for (int i = 0; i < 5; i++) blocks[i] = alloc_in(&in, 10, 1);
    hl_error e = HL_E_OK;
    CHECK_EQ(in.backend->alloc(in.heap, (hl_layout){10, 1}, HL_CAP_NONE, &e), 0);
    CHECK_EQ(e, HL_E_CAPACITY);
    CHECK_EQ(in.backend->free(in.heap, blocks[2], (hl_layout){10, 1}), HL_E_OK);
    CHECK(alloc_in(&in, 10, 1) != 0);
    CHECK(healthy(&in));
    drop_instance(&in);
    /* by default: a quarter of the free mappings, two per block */
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "", 0), HL_E_OK);
    uint64_t cap = info_of(&in).max_live_blocks;
    CHECK(cap > 1000 && cap <= 65530 / 8);
    drop_instance(&in);
}

/* 16 TiB is 2^32 pages: once truncated to one page, handed out outside every slot */
TEST(a_size_past_what_a_slot_can_count_is_out_of_memory)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "", 0), HL_E_OK);
    hl_error e = HL_E_OK;
    for (uint64_t size = (uint64_t)1 << 44; size <= (uint64_t)1 << 46; size <<= 1) {
        CHECK_EQ(in.backend->alloc(in.heap, (hl_layout){(size_t)size, 16}, HL_CAP_NONE, &e), 0);
        CHECK_EQ(e, HL_E_OUT_OF_MEMORY);
    }
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(sampling_guards_one_block_in_n)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "sample=4", 0), HL_E_OK);
    int guarded = 0;
    for (int i = 0; i < 40; i++) {
        hl_addr p = alloc_in(&in, 48, 16);
        guarded += (p + in.backend->usable_size(in.heap, p, (hl_layout){48, 16})) % PAGE == 0 &&
                   strcmp(perms_of(p + 48), "---p") == 0;
    }
    CHECK_EQ(guarded, 10);
    hl_info info = info_of(&in);
    CHECK_EQ(info.max_live_blocks, 0); /* the sub-heap takes what the guarded share cannot */
    CHECK_EQ(info.misuse & HL_MISUSE_ACCESS_KINDS, 0);
    CHECK(healthy(&in));
    CHECK_EQ(in.backend->free_all(in.heap), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    drop_instance(&in);
}

/* Access misuse is declared only when the host catches faults, every block is
 * guarded and pages are protected. */
TEST(access_kinds_declared_only_with_a_fault_catcher)
{
    static const struct {
        const char *options;
        bool caught;
        uint32_t kinds;
    } cases[] = {
        {"", true, HL_MISUSE_BIT(HL_E_OVERFLOW) | HL_MISUSE_BIT(HL_E_USE_AFTER_FREE)},
        {"at=start", true, HL_MISUSE_BIT(HL_E_UNDERFLOW) | HL_MISUSE_BIT(HL_E_USE_AFTER_FREE)},
        {"quarantine=0", true, HL_MISUSE_BIT(HL_E_OVERFLOW)},
        {"", false, 0},
        {"sample=2", true, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hl_option option = {"at", "end"};
        char key[32] = "", value[32] = "";
        if (cases[i].options[0]) sscanf(cases[i].options, "%31[^=]=%31s", key, value);
        hl_option given = {key, value};
        char error[200];
        hl_config config = {cases[i].options[0] ? &given : &option, 1, NULL, 0, error, sizeof error, cases[i].caught, 0};
        hl_heap *heap = NULL;
        CHECK_EQ(hl_backend_guard()->create(&config, &heap), HL_E_OK);
        hl_info info;
        hl_backend_guard()->describe(heap, &info);
        if ((info.misuse & HL_MISUSE_ACCESS_KINDS) != cases[i].kinds) fprintf(stderr, "  case %zu\n", i);
        CHECK_EQ(info.misuse & HL_MISUSE_ACCESS_KINDS, cases[i].kinds);
        CHECK_EQ(info.misuse & HL_MISUSE_FREE_KINDS, HL_MISUSE_FREE_KINDS);
        hl_backend_guard()->destroy(heap);
    }
}

TEST(static_buffer_mode_and_options)
{
    instance in;
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "source=static", 256u << 10), HL_E_OK);
    int served = 0;
    hl_error e = HL_E_OK;
    while (in.backend->alloc(in.heap, (hl_layout){100, 16}, HL_CAP_NONE, &e)) served++;
    CHECK_EQ(e, HL_E_OUT_OF_MEMORY); /* two pages a block, until the buffer ends */
    CHECK(served > 20 && served < 32);
    CHECK(healthy(&in));
    drop_instance(&in);
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "at=middle", 0), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(in.error, "at='middle'") != NULL);
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "sample=0", 0), HL_E_INVALID_ARGUMENT);
    CHECK_EQ(make_instance(&in, hl_backend_guard(), "source=linear", 0), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(in.error, "linear") != NULL);
}

int main(void)
{
    RUN(blocks_sit_against_their_guard_page);
    RUN(freed_slots_are_quarantined_then_reused);
    RUN(capacity_is_declared_and_enforced);
    RUN(a_size_past_what_a_slot_can_count_is_out_of_memory);
    RUN(sampling_guards_one_block_in_n);
    RUN(access_kinds_declared_only_with_a_fault_catcher);
    RUN(static_buffer_mode_and_options);
    return unit_summary();
}
