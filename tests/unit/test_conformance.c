/* test_conformance.c: one contract suite, run through the hl_backend table only,
 * against every backend configuration of this build. A new backend gets one line in
 * `configs`. */
#include "backend_util.h"
#include "unit.h"

typedef struct config {
    const char *label;
    const hl_backend *(*getter)(void);
    const char *options;
    size_t static_size;
} config;

static const config configs[] = {
    {"bins", hl_backend_bins, "", 0},
    {"bins:detect=0", hl_backend_bins, "detect=0", 0},
    {"bins:source=static", hl_backend_bins, "source=static", 8u << 20},
    {"bins:source=linear", hl_backend_bins, "source=linear:max_pages=256", 0},
    {"arena", hl_backend_arena, "", 0},
    {"arena:chunk=16K", hl_backend_arena, "chunk=16K", 0},
    {"arena:source=static", hl_backend_arena, "source=static", 8u << 20},
    {"arena:source=linear", hl_backend_arena, "source=linear:max_pages=256", 0},
    {"wasm", hl_backend_wasm, "", 0},
    {"wasm:max_pages=64", hl_backend_wasm, "max_pages=64", 0},
    {"libc", hl_backend_libc, "", 0},
};

static const size_t sizes[] = {0, 1, 15, 16, 17, 31, 33, 127, 128, 129, 1000, 4096, 70000};

static void run_suite(const config *c)
{
    instance in;
    CHECK_EQ(make_instance(&in, c->getter(), c->options, c->static_size), HL_E_OK);
    const hl_backend *b = in.backend;
    hl_info info;
    b->describe(in.heap, &info);
    CHECK(hl_is_power_of_two(info.min_align) && info.max_align >= 4096);
    enum { MAX = 13 * 13 };
    hl_addr blocks[MAX];
    hl_layout layouts[MAX];
    int n = 0;
    /* every size with every alignment up to 4096: aligned, usable, disjoint, kept */
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t align = 1; align <= 4096; align *= 2) {
            hl_layout layout = {sizes[s], align};
            hl_error e = HL_E_OK;
            hl_addr p = b->alloc(in.heap, layout, HL_CAP_NONE, &e);
            CHECK(p != 0);
            if (!p) continue;
            size_t want = align > info.min_align ? align : info.min_align;
            CHECK_EQ(p % want, 0);
            CHECK(b->usable_size(in.heap, p, layout) >= layout.size);
            fill(&in, p, layout.size, (unsigned char)n);
            blocks[n] = p;
            layouts[n++] = layout;
        }
    for (int i = 0; i < n; i++) {
        CHECK(holds(&in, blocks[i], layouts[i].size, (unsigned char)i));
        for (int j = i + 1; j < n; j++) {
            hl_addr ai = blocks[i], aj = blocks[j];
            size_t si = layouts[i].size ? layouts[i].size : 1, sj = layouts[j].size ? layouts[j].size : 1;
            CHECK(ai + si <= aj || aj + sj <= ai);
        }
    }
    CHECK_EQ(stats_of(&in).live_blocks, n);
    CHECK(healthy(&in));
    /* realloc keeps the prefix and the alignment, growing and shrinking */
    for (int i = 0; i < n; i += 7) {
        hl_error e = HL_E_OK;
        size_t grown = layouts[i].size * 3 + 5;
        hl_addr q = b->realloc(in.heap, blocks[i], layouts[i], grown, &e);
        CHECK(q != 0 && q % (layouts[i].align > info.min_align ? layouts[i].align : info.min_align) == 0);
        CHECK(holds(&in, q, layouts[i].size, (unsigned char)i));
        hl_addr r = b->realloc(in.heap, q, (hl_layout){grown, layouts[i].align}, layouts[i].size / 2, &e);
        CHECK(holds(&in, r, layouts[i].size / 2, (unsigned char)i));
        blocks[i] = r;
        layouts[i].size /= 2;
    }
    /* errors */
    hl_error e = HL_E_OK;
    CHECK_EQ(b->alloc(in.heap, (hl_layout){16, 24}, HL_CAP_NONE, &e), 0);
    CHECK_EQ(e, HL_E_INVALID_ARGUMENT);
    if (!(info.features & HL_FEATURE_CAP_EXEC)) {
        CHECK_EQ(b->alloc(in.heap, (hl_layout){16, 16}, HL_CAP_EXEC, &e), 0);
        CHECK_EQ(e, HL_E_UNSUPPORTED);
    }
    CHECK_EQ(b->free(in.heap, 0, (hl_layout){1, 1}), HL_E_OK);
    /* scopes: the inner blocks go, the outer survive */
    uint64_t before = stats_of(&in).live_blocks;
    hl_scope s;
    CHECK_EQ(b->enter_scope(in.heap, &s), HL_E_OK);
    for (int i = 0; i < 50; i++) b->alloc(in.heap, (hl_layout){(size_t)i * 9, 8}, HL_CAP_NONE, &e);
    CHECK_EQ(b->exit_scope(in.heap, s), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, before);
    for (int i = 0; i < n; i++) CHECK(holds(&in, blocks[i], layouts[i].size, (unsigned char)i));
    /* frees in a scrambled order, then free_all */
    for (int i = 0; i < n; i += 3) CHECK_EQ(b->free(in.heap, blocks[(i * 5) % n], layouts[(i * 5) % n]), HL_E_OK);
    CHECK(healthy(&in));
    CHECK_EQ(b->free_all(in.heap), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    CHECK_EQ(stats_of(&in).live_bytes, 0);
    CHECK(healthy(&in));
    drop_instance(&in);
}

TEST(every_configuration_honours_the_contract)
{
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        int before = unit_failed_checks;
        run_suite(&configs[i]);
        if (unit_failed_checks != before) fprintf(stderr, "  ... in configuration %s\n", configs[i].label);
    }
}

int main(void)
{
    RUN(every_configuration_honours_the_contract);
    return unit_summary();
}
