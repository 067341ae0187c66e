/* test_conformance.c: one contract suite, run through the hl_backend table only,
 * against every built-in backend of the registry (and a few more configurations),
 * parameterised by what each declares: alignments up to its max_align, sizes up to
 * 16 MiB, realloc grow/shrink/in place, the misuse kinds it detects, scopes nested 64
 * deep with promote and realloc of an outer block, free_all, mem_copy over
 * overlapping ranges, stats; and, on a small memory source, out of memory (every
 * failure leaves the instance usable and nothing lost, promote included). A new
 * backend is covered by being in the registry (hl_registry_conforms: the built-ins and
 * the test backends that declare they conform; this binary links the test build's
 * registry); `small` gives it a small source. With names as arguments, only the
 * registry's conforming backends of those names run (with defaults), and a name the
 * registry walk did not reach is a failure: tests/allocators/test_conformance.py. */
#include "backend_util.h"
#include "hl_check.h"
#include "unit.h"

typedef struct config {
    const char *label;
    const hl_backend *backend;
    const char *options;
    size_t static_size;
} config;

/* Debian 12's mimalloc 2.0.9 serves mi_malloc_aligned requests of at most 1024 bytes
 * (after the adapter rounds the size up to the alignment) from its small-object path
 * without honouring alignments of 256 and up: microsoft/mimalloc#700, heaplab's finding
 * on traces/basic.trace. The suite counts those instead of failing on them, and fails
 * if there are none (a fixed mimalloc: time to drop this and the README's note). */
static bool mimalloc_700(const hl_info *info, hl_layout layout)
{
    size_t asked = (layout.size + layout.align - 1) & ~(layout.align - 1);
    return strcmp(info->name, "mimalloc") == 0 && layout.align >= 256 && asked <= 1024;
}

/* More configurations of the built-ins (each registry backend runs with defaults). */
static const config extra[] = {
    {"bins:detect=0", NULL, "detect=0", 0},
    {"bins:source=static", NULL, "source=static:size=160M", 160u << 20},
    {"bins:source=linear", NULL, "source=linear:max_pages=2560", 0},
    {"arena:chunk=16K", NULL, "chunk=16K", 0},
    {"arena:source=static", NULL, "source=static:size=160M", 160u << 20},
    {"arena:source=linear", NULL, "source=linear:max_pages=2560", 0},
    {"guard:at=start", NULL, "at=start", 0},
    {"guard:sample=3", NULL, "sample=3", 0},
    {"caps:exec=0:dma=0", NULL, "exec=0:dma=0", 0},
    {"wasm:max_pages=1024", NULL, "max_pages=1024", 0},
};

/* A small memory for the out-of-memory tests: a backend without one is skipped there
 * (a foreign allocator has no source to make small). */
static const config small[] = {
    {"bins", NULL, "source=static", 256u << 10},
    {"arena", NULL, "source=static:chunk=16K", 256u << 10},
    {"guard", NULL, "source=static", 256u << 10},
    {"bins:source=linear", NULL, "source=linear:max_pages=4", 0},
    {"wasm", NULL, "max_pages=4", 0},
};

static const hl_backend *named(const char *label)
{
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(label, ":"), label);
    return hl_registry_find(name);
}

static hl_info info_of(instance *in)
{
    hl_info info;
    in->backend->describe(in->heap, &info);
    return info;
}

static size_t want_align(const hl_info *info, size_t align) { return align > info->min_align ? align : info->min_align; }

static bool disjoint(hl_addr a, size_t sa, hl_addr b, size_t sb)
{
    sa = sa ? sa : 1, sb = sb ? sb : 1;
    return a + sa <= b || b + sb <= a;
}

/* Alignment sweep 1..max_align, sizes 0..70000, then 1, 4 and 16 MiB; realloc grow,
 * shrink and in place; contents and disjointness throughout. */
static void allocations(instance *in)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 31, 33, 127, 128, 129, 1000, 4095, 4097, 70000};
    enum { MAX = 14 * 17 + 3 };
    const hl_backend *b = in->backend;
    hl_info info = info_of(in);
    CHECK(hl_is_power_of_two(info.min_align) && info.max_align >= 4096);
    hl_addr blocks[MAX];
    hl_layout layouts[MAX];
    int n = 0, known_misaligned = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t align = 1; align <= info.max_align && align <= 65536; align *= 2) {
            if (sizes[s] > 4097 && align > 4096) continue; /* keeps the sweep's memory small */
            hl_layout layout = {sizes[s], align};
            hl_error e = HL_E_OK;
            hl_addr p = b->alloc(in->heap, layout, HL_CAP_NONE, &e);
            if (!p) fprintf(stderr, "  alloc %zu align %zu: %s\n", sizes[s], align, hl_error_name(e));
            CHECK(p != 0);
            if (!p) continue;
            if (p % want_align(&info, align) != 0 && mimalloc_700(&info, layout)) known_misaligned++;
            else CHECK_EQ(p % want_align(&info, align), 0);
            CHECK(b->usable_size(in->heap, p, layout) >= layout.size);
            fill(in, p, layout.size, (unsigned char)n);
            blocks[n] = p;
            layouts[n++] = layout;
        }
    if (strcmp(info.name, "mimalloc") == 0) CHECK(known_misaligned > 0); /* still there: README "Peers" */
    for (size_t big = 1u << 20; big <= (16u << 20); big *= 4) {
        if (info.max_size && big > info.max_size) continue;
        hl_addr p = alloc_in(in, big, 16);
        CHECK(p != 0);
        if (!p) continue;
        fill(in, p, big, (unsigned char)n);
        blocks[n] = p;
        layouts[n++] = (hl_layout){big, 16};
    }
    for (int i = 0; i < n; i++) {
        CHECK(holds(in, blocks[i], layouts[i].size, (unsigned char)i));
        for (int j = i + 1; j < n; j++) CHECK(disjoint(blocks[i], layouts[i].size, blocks[j], layouts[j].size));
    }
    CHECK_EQ(stats_of(in).live_blocks, n);
    CHECK(healthy(in));
    for (int i = 0; i < n; i += 7) { /* grow, shrink, and a realloc to the same size */
        hl_error e = HL_E_OK;
        size_t grown = layouts[i].size * 3 + 5, align = want_align(&info, layouts[i].align);
        hl_addr q = b->realloc(in->heap, blocks[i], layouts[i], grown, &e);
        CHECK(q != 0);
        CHECK(q % align == 0 || mimalloc_700(&info, (hl_layout){grown, layouts[i].align}));
        CHECK(holds(in, q, layouts[i].size, (unsigned char)i));
        hl_addr r = b->realloc(in->heap, q, (hl_layout){grown, layouts[i].align}, layouts[i].size / 2, &e);
        CHECK(r != 0);
        CHECK(r % align == 0 || mimalloc_700(&info, (hl_layout){layouts[i].size / 2, layouts[i].align}));
        CHECK(holds(in, r, layouts[i].size / 2, (unsigned char)i));
        layouts[i].size /= 2;
        hl_addr same = b->realloc(in->heap, r, layouts[i], layouts[i].size, &e);
        CHECK(holds(in, same, layouts[i].size, (unsigned char)i));
        blocks[i] = same;
    }
    uint64_t bytes = 0;
    for (int i = 0; i < n; i++) bytes += layouts[i].size;
    hl_stats st = stats_of(in);
    CHECK_EQ(st.live_bytes, bytes);
    if (info.backend_class == HL_CLASS_REFERENCE) CHECK(st.footprint >= st.live_bytes);
    CHECK(st.peak_footprint >= st.footprint);
    CHECK(st.calls[HL_STAT_alloc] >= (uint64_t)n);
    for (int i = 0; i < n; i++) CHECK_EQ(b->free(in->heap, blocks[i], layouts[i]), HL_E_OK);
    CHECK_EQ(stats_of(in).live_blocks, 0);
    CHECK(healthy(in));
}

static void errors(instance *in)
{
    const hl_backend *b = in->backend;
    hl_info info = info_of(in);
    hl_error e = HL_E_OK;
    CHECK_EQ(b->alloc(in->heap, (hl_layout){16, 24}, HL_CAP_NONE, &e), 0);
    CHECK_EQ(e, HL_E_INVALID_ARGUMENT);
    if (info.max_align < ((size_t)1 << 30)) {
        CHECK_EQ(b->alloc(in->heap, (hl_layout){16, info.max_align * 2}, HL_CAP_NONE, &e), 0);
        CHECK_EQ(e, HL_E_UNSUPPORTED);
    }
    if (!(info.features & HL_FEATURE_CAP_EXEC)) {
        CHECK_EQ(b->alloc(in->heap, (hl_layout){16, 16}, HL_CAP_EXEC, &e), 0);
        CHECK_EQ(e, HL_E_UNSUPPORTED);
    }
    if (!(info.features & HL_FEATURE_CAP_DMA)) {
        CHECK_EQ(b->alloc(in->heap, (hl_layout){16, 16}, HL_CAP_DMA, &e), 0);
        CHECK_EQ(e, HL_E_UNSUPPORTED);
    }
    CHECK_EQ(b->free(in->heap, 0, (hl_layout){1, 1}), HL_E_OK);
}

/* Each free-misuse kind the backend declares is reported, and the instance goes on. */
static void misuse(instance *in)
{
    const hl_backend *b = in->backend;
    uint32_t declared = info_of(in).misuse;
    hl_addr a = alloc_in(in, 48, 16), c = alloc_in(in, 48, 16);
    fill(in, c, 48, 7);
    if (declared & HL_MISUSE_BIT(HL_E_LAYOUT_MISMATCH)) {
        CHECK_EQ(b->free(in->heap, a, (hl_layout){40, 16}), HL_E_LAYOUT_MISMATCH);
        CHECK_EQ(b->free(in->heap, a, (hl_layout){48, 32}), HL_E_LAYOUT_MISMATCH);
    }
    if (declared & HL_MISUSE_BIT(HL_E_INVALID_POINTER))
        CHECK_EQ(b->free(in->heap, a + 16, (hl_layout){48, 16}), HL_E_INVALID_POINTER);
    CHECK_EQ(b->free(in->heap, a, (hl_layout){48, 16}), HL_E_OK);
    if (declared & HL_MISUSE_BIT(HL_E_DOUBLE_FREE)) {
        hl_error e = b->free(in->heap, a, (hl_layout){48, 16});
        CHECK(e == HL_E_DOUBLE_FREE || e == HL_E_INVALID_POINTER);
    }
    CHECK(holds(in, c, 48, 7));
    CHECK_EQ(stats_of(in).live_blocks, 1);
    CHECK(healthy(in));
    CHECK_EQ(b->free(in->heap, c, (hl_layout){48, 16}), HL_E_OK);
}

/* 64 scopes deep, a block in each; an outer block reallocated from the innermost
 * scope keeps its scope; promote out of the innermost; exits close the right sets. */
static void scopes(instance *in)
{
    const hl_backend *b = in->backend;
    enum { DEPTH = 64 };
    hl_scope handles[DEPTH + 1];
    hl_addr blocks[DEPTH + 1];
    hl_addr root = alloc_in(in, 20, 8);
    fill(in, root, 20, 1);
    for (int d = 1; d <= DEPTH; d++) {
        CHECK_EQ(b->enter_scope(in->heap, &handles[d]), HL_E_OK);
        blocks[d] = alloc_in(in, (size_t)d * 3, 8);
        fill(in, blocks[d], (size_t)d * 3, (unsigned char)d);
    }
    CHECK_EQ(stats_of(in).live_blocks, DEPTH + 1);
    hl_error e = HL_E_OK;
    /* the block of scope 2, grown from scope 64: it must survive scopes 3..64 */
    hl_addr moved = b->realloc(in->heap, blocks[2], (hl_layout){6, 8}, 5000, &e);
    CHECK(moved != 0);
    blocks[2] = moved;
    /* promote scope 64's block into scope 63 */
    hl_addr kept = b->promote(in->heap, handles[DEPTH], blocks[DEPTH], (hl_layout){DEPTH * 3, 8}, 100, &e);
    CHECK(kept != 0);
    CHECK(holds(in, kept, 100, DEPTH));
    CHECK_EQ(stats_of(in).live_blocks, DEPTH + 1);
    CHECK_EQ(b->exit_scope(in->heap, handles[DEPTH]), HL_E_INVALID_ARGUMENT); /* closed by the promote */
    CHECK_EQ(b->exit_scope(in->heap, handles[3]), HL_E_OK); /* closes 3..63 and the survivor with 63 */
    CHECK_EQ(stats_of(in).live_blocks, 3);
    CHECK(holds(in, blocks[2], 6, 2));
    CHECK(holds(in, blocks[1], 3, 1));
    CHECK(healthy(in));
    /* a promote whose block is not in the scope changes nothing */
    CHECK_EQ(b->promote(in->heap, handles[2], blocks[1], (hl_layout){3, 8}, 3, &e), 0);
    CHECK_EQ(e, HL_E_INVALID_ARGUMENT);
    CHECK_EQ(b->exit_scope(in->heap, handles[1]), HL_E_OK);
    CHECK_EQ(stats_of(in).live_blocks, 1);
    CHECK(holds(in, root, 20, 1));
    CHECK_EQ(b->free_all(in->heap), HL_E_OK);
    CHECK_EQ(stats_of(in).live_blocks, 0);
    CHECK_EQ(stats_of(in).live_bytes, 0);
    CHECK(healthy(in));
}

/* mem_copy is a forward byte walk, overlapping ranges included (dst > src pinned). */
static void mem_copy(instance *in)
{
    const hl_backend *b = in->backend;
    hl_addr p = alloc_in(in, 64, 16);
    unsigned char *bytes = b->mem_view(in->heap, p, 64), expect[64];
    for (int i = 0; i < 64; i++) bytes[i] = expect[i] = (unsigned char)i;
    for (int i = 0; i < 40; i++) expect[3 + i] = expect[i]; /* the forward walk, by hand */
    CHECK_EQ(b->mem_copy(in->heap, p + 3, p, 40), HL_E_OK);
    CHECK(memcmp(bytes, expect, 64) == 0);
    for (int i = 0; i < 40; i++) expect[i] = expect[i + 5];
    CHECK_EQ(b->mem_copy(in->heap, p, p + 5, 40), HL_E_OK);
    CHECK(memcmp(bytes, expect, 64) == 0);
    CHECK_EQ(b->free(in->heap, p, (hl_layout){64, 16}), HL_E_OK);
}

static void run_suite(const config *c)
{
    instance in;
    hl_error made = make_instance(&in, c->backend, c->options, c->static_size);
    CHECK_EQ(made, HL_E_OK);
    if (made != HL_E_OK) return;
    allocations(&in);
    errors(&in);
    misuse(&in);
    scopes(&in);
    mem_copy(&in);
    drop_instance(&in);
}

/* On a small memory: allocate until out of memory; each failure leaves everything
 * live and intact and the instance usable; promote under OOM changes nothing. */
static void run_out_of_memory(const config *c)
{
    instance in;
    CHECK_EQ(make_instance(&in, c->backend, c->options, c->static_size), HL_E_OK);
    const hl_backend *b = in.backend;
    enum { MAX = 4096 };
    static hl_addr blocks[MAX];
    int n = 0;
    hl_error e = HL_E_OK;
    hl_scope s;
    CHECK_EQ(b->enter_scope(in.heap, &s), HL_E_OK);
    while (n < MAX) {
        hl_addr p = b->alloc(in.heap, (hl_layout){1000, 16}, HL_CAP_NONE, &e);
        if (!p) break;
        fill(&in, p, 1000, (unsigned char)n);
        blocks[n++] = p;
    }
    CHECK(n > 0 && n < MAX);
    CHECK(e == HL_E_OUT_OF_MEMORY || e == HL_E_CAPACITY);
    CHECK_EQ(stats_of(&in).live_blocks, n);
    CHECK(healthy(&in));
    /* a failed realloc keeps the old block */
    CHECK_EQ(b->realloc(in.heap, blocks[0], (hl_layout){1000, 16}, 8u << 20, &e), 0);
    CHECK(holds(&in, blocks[0], 1000, 0));
    /* promote needs room in the parent: none left, so nothing may change */
    hl_addr kept = b->promote(in.heap, s, blocks[1], (hl_layout){1000, 16}, 1000, &e);
    if (!kept) {
        CHECK_EQ(e, HL_E_OUT_OF_MEMORY);
        CHECK_EQ(stats_of(&in).live_blocks, n);
        for (int i = 0; i < n; i++) CHECK(holds(&in, blocks[i], 1000, (unsigned char)i));
        CHECK_EQ(b->exit_scope(in.heap, s), HL_E_OK);
    }
    CHECK(healthy(&in));
    CHECK_EQ(b->free_all(in.heap), HL_E_OK);
    CHECK(alloc_in(&in, 1000, 16) != 0); /* usable again */
    CHECK(healthy(&in));
    drop_instance(&in);
}

/* the backend names given on the command line (none: every conforming backend) */
static char **only;
static int only_count;

static bool wanted(const char *name)
{
    if (!only_count) return true;
    for (int i = 0; i < only_count; i++)
        if (only[i] && strcmp(only[i], name) == 0) return only[i] = NULL, true; /* reached */
    return false;
}

TEST(every_backend_honours_the_contract)
{
    size_t count, ran = 0;
    const hl_backend *const *all = hl_registry(&count);
    CHECK(count >= 5);
    for (size_t i = 0; i < count; i++) {
        if (!hl_registry_conforms(all[i]) || !wanted(all[i]->name)) continue;
        int before = unit_failed_checks;
        config c = {all[i]->name, all[i], "", 0};
        printf("conformance: %s\n", c.label);
        run_suite(&c);
        ran++;
        if (unit_failed_checks != before) fprintf(stderr, "  ... in %s\n", c.label);
    }
    CHECK(ran > 0);
    for (int i = 0; i < only_count; i++)
        if (only[i]) fprintf(stderr, "  %s: not a conforming backend of the registry\n", only[i]);
    for (int i = 0; i < only_count; i++) CHECK(only[i] == NULL);
    if (only_count) return; /* the named backends only */
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        int before = unit_failed_checks;
        config c = extra[i];
        c.backend = named(c.label);
        CHECK(c.backend != NULL);
        if (c.backend) run_suite(&c);
        if (unit_failed_checks != before) fprintf(stderr, "  ... in %s\n", c.label);
    }
}

TEST(out_of_memory_leaves_everything_intact)
{
    if (only_count) return; /* the named backends only, with defaults */
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        int before = unit_failed_checks;
        config c = small[i];
        c.backend = named(c.label);
        CHECK(c.backend != NULL);
        if (c.backend) run_out_of_memory(&c);
        if (unit_failed_checks != before) fprintf(stderr, "  ... in %s (small memory)\n", c.label);
    }
}

int main(int argc, char **argv)
{
    hl_registry_reserve_tls(argv); /* so the jemalloc peer loads */
    only = argv + 1;
    only_count = argc - 1;
    RUN(every_backend_honours_the_contract);
    RUN(out_of_memory_leaves_everything_intact);
    return unit_summary();
}
