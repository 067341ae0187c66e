/* test_wasm_module.c: the `wasm-module` backend (the real module, translated by wasm2c,
 * on heaplab's runtime): each seed 001 trap becomes the operation's named error with
 * nothing changed (realloc out of memory at max_pages, a closed scope, a copy out of
 * the memory, a bad promote), the memory grows in place and never moves, the module
 * and the native core lay out the same bytes, and a broken module's out-of-bounds trap
 * is an operation's failure and check's report, never the end of the process. */
#include "backend_util.h"
#include "unit.h"

const hl_backend *hl_test_backend_wasm_module_trap(void);

static hl_heap *make(instance *in, const hl_backend *backend, const char *options)
{
    CHECK_EQ(make_instance(in, backend, options, 0), HL_E_OK);
    return in->heap;
}

TEST(seed_001_traps_are_named_errors_with_nothing_changed)
{
    instance in;
    hl_heap *h = make(&in, hl_backend_wasm_module(), "max_pages=16");
    const hl_backend *b = in.backend;
    hl_error e = HL_E_OK;
    hl_addr p = b->alloc(h, (hl_layout){100, 16}, HL_CAP_NONE, &e);
    CHECK(p >= 1024 && p % 16 == 0);
    fill(&in, p, 100, 3);
    /* realloc past max_pages: the module's realloc traps (unreachable) */
    CHECK_EQ(b->realloc(h, p, (hl_layout){100, 16}, 2u << 20, &e), 0);
    CHECK_EQ(e, HL_E_OUT_OF_MEMORY);
    CHECK(holds(&in, p, 100, 3) && b->usable_size(h, p, (hl_layout){100, 16}) >= 100);
    CHECK_EQ(b->alloc(h, (hl_layout){2u << 20, 1}, HL_CAP_NONE, &e), 0);
    CHECK_EQ(e, HL_E_OUT_OF_MEMORY);
    /* scopes: a closed scope's exit and promote trap */
    hl_scope s = 0;
    CHECK_EQ(b->enter_scope(h, &s), HL_E_OK);
    hl_addr q = b->alloc(h, (hl_layout){40, 1}, HL_CAP_NONE, &e);
    CHECK_EQ(b->exit_scope(h, s), HL_E_OK);
    CHECK_EQ(b->exit_scope(h, s), HL_E_INVALID_ARGUMENT);
    CHECK_EQ(b->promote(h, s, q, (hl_layout){40, 1}, 8, &e), 0);
    CHECK_EQ(e, HL_E_INVALID_ARGUMENT);
    /* mem_copy out of the memory */
    CHECK_EQ(b->mem_copy(h, 16u * 65536u - 2u, p, 4), HL_E_INVALID_ARGUMENT);
    CHECK_EQ(b->mem_copy(h, q, p, 4), HL_E_OK);
    /* the misuse codes of heaplab-free */
    CHECK_EQ(b->free(h, p, (hl_layout){99, 16}), HL_E_LAYOUT_MISMATCH);
    CHECK_EQ(b->free(h, p + 16, (hl_layout){100, 16}), HL_E_INVALID_POINTER);
    CHECK_EQ(b->free(h, p, (hl_layout){100, 16}), HL_E_OK);
    CHECK_EQ(b->free(h, p, (hl_layout){100, 16}), HL_E_DOUBLE_FREE);
    hl_stats st = stats_of(&in);
    CHECK_EQ(st.live_blocks, 0);
    CHECK_EQ(st.failures[HL_STAT_realloc], 1);
    CHECK_EQ(st.failures[HL_STAT_exit_scope], 1);
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(the_memory_grows_in_place_and_matches_the_native_core_byte_for_byte)
{
    instance mod, nat;
    make(&mod, hl_backend_wasm_module(), "");
    make(&nat, hl_backend_wasm(), "");
    unsigned char *base = mod.backend->mem_view(mod.heap, 0, 1);
    for (uint32_t i = 0; i < 300; i++) {
        size_t size = (i * 7919u) % 50000u, align = (size_t)1 << (i % 13);
        hl_addr a = alloc_in(&mod, size, align), n = alloc_in(&nat, size, align);
        CHECK(a != 0 && a == n);
    }
    hl_stats ms = stats_of(&mod), ns = stats_of(&nat);
    CHECK(ms.footprint > 65536 && ms.footprint == ns.footprint);
    CHECK(mod.backend->mem_view(mod.heap, 0, 1) == base); /* never moved */
    /* from the heap base up, the two memories hold the same bytes (the adapter's own
     * state sits below 1024 in the native build, the module's stack there in the module) */
    size_t len = (size_t)ms.footprint - 1024;
    CHECK(memcmp(mod.backend->mem_view(mod.heap, 1024, len), nat.backend->mem_view(nat.heap, 1024, len), len) == 0);
    CHECK(healthy(&mod));
    drop_instance(&mod);
    drop_instance(&nat);
}

TEST(an_unexpected_trap_fails_the_operation_and_check_reports_it)
{
    instance in;
    hl_heap *h = make(&in, hl_test_backend_wasm_module_trap(), "");
    const hl_backend *b = in.backend;
    char message[300] = "";
    CHECK_EQ(b->check(h, message, sizeof message), HL_E_OK);
    hl_addr p = alloc_in(&in, 64, 1);
    CHECK(p != 0);
    CHECK_EQ(b->usable_size(h, p, (hl_layout){64, 1}), 0); /* heaplab-usable read past the memory */
    CHECK_EQ(b->check(h, message, sizeof message), HL_E_CORRUPTED);
    if (!strstr(message, "the module trapped in heaplab-usable: out of bounds memory access")) fprintf(stderr, "%s\n", message);
    CHECK(strstr(message, "the module trapped in heaplab-usable: out of bounds memory access") != NULL);
    CHECK(alloc_in(&in, 64, 1) != 0); /* the instance goes on */
    drop_instance(&in);
}

int main(void)
{
    RUN(seed_001_traps_are_named_errors_with_nothing_changed);
    RUN(the_memory_grows_in_place_and_matches_the_native_core_byte_for_byte);
    RUN(an_unexpected_trap_fails_the_operation_and_check_reports_it);
    return unit_summary();
}
