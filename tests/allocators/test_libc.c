/* test_libc.c: the libc adapter over glibc. */
#include "backend_util.h"
#include "unit.h"

#include <dlfcn.h>
#include <stdlib.h>
#ifdef __SANITIZE_ADDRESS__
int __sanitizer_get_ownership(const volatile void *p); /* ASan's: 1 for a block of its own */
#endif

#define LIBC (hl_backend_libc())

static instance in;

TEST(blocks_alignment_and_realloc)
{
    CHECK_EQ(make_instance(&in, LIBC, "", 0), HL_E_OK);
    for (size_t align = 1; align <= 65536; align *= 4) {
        hl_addr p = alloc_in(&in, 100, align);
        CHECK(p != 0 && p % (align > 16 ? align : 16) == 0);
        CHECK(LIBC->usable_size(in.heap, p, (hl_layout){100, align}) >= 100);
        fill(&in, p, 100, (unsigned char)align);
        hl_error e = HL_E_OK;
        hl_addr q = LIBC->realloc(in.heap, p, (hl_layout){100, align}, 5000, &e);
        CHECK(q != 0 && q % (align > 16 ? align : 16) == 0); /* realloc keeps the alignment */
        CHECK(holds(&in, q, 100, (unsigned char)align));
        q = LIBC->realloc(in.heap, q, (hl_layout){5000, align}, 0, &e); /* size 0 stays a live block */
        CHECK(q != 0);
        CHECK_EQ(LIBC->free(in.heap, q, (hl_layout){0, align}), HL_E_OK);
    }
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    CHECK_EQ(stats_of(&in).live_bytes, 0);
    hl_error e = HL_E_OK;
    CHECK_EQ(LIBC->alloc(in.heap, (hl_layout){8, 6}, 0, &e), 0);
    CHECK_EQ(e, HL_E_INVALID_ARGUMENT);
    CHECK_EQ(LIBC->alloc(in.heap, (hl_layout){8, 8}, HL_CAP_DMA, &e), 0);
    CHECK_EQ(e, HL_E_UNSUPPORTED);
    hl_info info;
    LIBC->describe(in.heap, &info);
    CHECK_EQ(info.backend_class, HL_CLASS_FOREIGN);
    CHECK_EQ(info.misuse, 0); /* glibc aborts on misuse: nothing is declared */
    drop_instance(&in);
}

TEST(one_instance_per_process)
{
    CHECK_EQ(make_instance(&in, LIBC, "", 0), HL_E_OK);
    instance second;
    CHECK_EQ(make_instance(&second, LIBC, "", 0), HL_E_UNSUPPORTED);
    CHECK(strstr(second.error, "one instance per process") != NULL);
    drop_instance(&in);
    CHECK_EQ(make_instance(&second, LIBC, "", 0), HL_E_OK);
    drop_instance(&second);
    CHECK_EQ(make_instance(&in, LIBC, "x=1", 0), HL_E_INVALID_ARGUMENT);
}

TEST(scopes_free_all_and_footprint)
{
    CHECK_EQ(make_instance(&in, LIBC, "", 0), HL_E_OK);
    hl_scope s;
    CHECK_EQ(LIBC->enter_scope(in.heap, &s), HL_E_OK);
    for (int i = 0; i < 1000; i++) alloc_in(&in, 4096, 16);
    /* mallinfo2 sees the trace's blocks: they are glibc's, also here, where ASan
     * serves the process's malloc */
    CHECK(stats_of(&in).footprint >= 1000 * 4096);
    CHECK_EQ(LIBC->exit_scope(in.heap, s), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    CHECK(stats_of(&in).peak_footprint >= 1000 * 4096);
    for (int i = 0; i < 100; i++) alloc_in(&in, 64, 16);
    CHECK_EQ(LIBC->free_all(in.heap), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    /* as new: the peak starts again from what glibc holds now */
    CHECK_EQ(stats_of(&in).peak_footprint, stats_of(&in).footprint);
    CHECK(healthy(&in));
    alloc_in(&in, 64, 16); /* destroy frees it: LeakSanitizer would say otherwise */
    drop_instance(&in);
}

/* Told that the caller frees every block and calls from one thread, the adapter keeps
 * no tracker and takes no lock: scopes and free_all are UNSUPPORTED, the live counts
 * still follow the layouts, and alloc, realloc and free still work at every size and
 * alignment (the fast path and the others). */
TEST(hints_make_the_adapter_lean)
{
    CHECK_EQ(make_instance_hinted(&in, LIBC, "", 0, HL_HINT_CALLER_FREES | HL_HINT_ONE_THREAD), HL_E_OK);
    hl_info info;
    memset(&info, 0, sizeof info);
    LIBC->describe(in.heap, &info);
    CHECK(info.direct == NULL); /* it counts: its calls are not malloc's alone */
    hl_scope s;
    CHECK_EQ(LIBC->enter_scope(in.heap, &s), HL_E_UNSUPPORTED);
    CHECK_EQ(LIBC->free_all(in.heap), HL_E_UNSUPPORTED);
    hl_error e = HL_E_OK;
    hl_addr blocks[6];
    size_t sizes[6] = {0, 1, 16, 100, 5000, 1 << 20}, aligns[6] = {1, 16, 8, 64, 4096, 2};
    for (int i = 0; i < 6; i++) {
        blocks[i] = LIBC->alloc(in.heap, (hl_layout){sizes[i], aligns[i]}, 0, &e);
        CHECK(blocks[i] != 0 && blocks[i] % (aligns[i] > 16 ? aligns[i] : 16) == 0);
    }
    CHECK_EQ(stats_of(&in).live_blocks, 6);
    CHECK_EQ(stats_of(&in).live_bytes, 0 + 1 + 16 + 100 + 5000 + (1 << 20));
    blocks[2] = LIBC->realloc(in.heap, blocks[2], (hl_layout){16, 8}, 300, &e);
    CHECK(blocks[2] != 0);
    sizes[2] = 300;
    CHECK_EQ(stats_of(&in).live_bytes, 0 + 1 + 300 + 100 + 5000 + (1 << 20));
    CHECK_EQ(LIBC->alloc(in.heap, (hl_layout){8, 3}, 0, &e), 0); /* still refused */
    CHECK_EQ(e, HL_E_INVALID_ARGUMENT);
    CHECK_EQ(LIBC->alloc(in.heap, (hl_layout){8, 0}, 0, &e), 0);
    CHECK_EQ(e, HL_E_INVALID_ARGUMENT);
    CHECK_EQ(LIBC->alloc(in.heap, (hl_layout){8, 8}, HL_CAP_EXEC, &e), 0);
    CHECK_EQ(e, HL_E_UNSUPPORTED);
    for (int i = 0; i < 6; i++) CHECK_EQ(LIBC->free(in.heap, blocks[i], (hl_layout){sizes[i], aligns[i]}), HL_E_OK);
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    CHECK_EQ(stats_of(&in).live_bytes, 0);
    CHECK_EQ(stats_of(&in).calls[HL_STAT_alloc], 9);
    CHECK_EQ(stats_of(&in).failures[HL_STAT_alloc], 3);
    CHECK(healthy(&in));
    drop_instance(&in);
    /* NO_STATS as well: nothing counted, no footprint query; the calls still work */
    CHECK_EQ(make_instance_hinted(&in, LIBC, "", 0, HL_HINT_CALLER_FREES | HL_HINT_ONE_THREAD | HL_HINT_NO_STATS),
             HL_E_OK);
    hl_addr p = LIBC->alloc(in.heap, (hl_layout){100, 8}, 0, &e);
    CHECK(p != 0);
    CHECK_EQ(stats_of(&in).live_blocks, 0);
    CHECK_EQ(stats_of(&in).footprint, 0);
    /* its own entry points are glibc's (not the process's malloc: ASan's, in this
     * build), and they mix with the table's calls */
    LIBC->describe(in.heap, &info);
    CHECK(info.direct != NULL);
    void *glibc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    CHECK(glibc != NULL);
    CHECK((void *)info.direct->malloc == dlsym(glibc, "__libc_malloc"));
    CHECK((void *)info.direct->free == dlsym(glibc, "__libc_free"));
    CHECK((void *)info.direct->realloc == dlsym(glibc, "__libc_realloc"));
#ifdef __SANITIZE_ADDRESS__
    CHECK(info.direct->malloc != malloc);
    CHECK(!__sanitizer_get_ownership((void *)p)); /* not ASan's block */
#else
    CHECK(info.direct->malloc == malloc); /* glibc's malloc is __libc_malloc */
#endif
    CHECK_EQ(hl_direct_promise(info.direct, 1), 16); /* glibc: 16 at every size */
    CHECK(!info.direct->by_size);
    void *q = info.direct->realloc((void *)p, 300);
    CHECK(q != NULL);
    CHECK_EQ(LIBC->free(in.heap, (hl_addr)q, (hl_layout){300, 8}), HL_E_OK);
    drop_instance(&in);
}

int main(void)
{
    RUN(blocks_alignment_and_realloc);
    RUN(one_instance_per_process);
    RUN(scopes_free_all_and_footprint);
    RUN(hints_make_the_adapter_lean);
    return unit_summary();
}
