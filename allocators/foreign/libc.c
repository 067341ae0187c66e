/* libc.c: glibc's malloc as the foreign backend `libc`, through the malloc adapter:
 * malloc, free, realloc, memalign above 16, malloc_usable_size. These are glibc's own
 * entry points (__libc_malloc..., looked up in libc.so.6), not whatever answers to
 * `malloc` in this process: under ASan (the test and libFuzzer builds) that is the
 * sanitizer's allocator, and under LD_PRELOAD another library, and `libc` would then
 * test and measure that one under glibc's name.
 * The footprint is what glibc holds from the system (mallinfo2: arena + hblkhd) less
 * what others (heaplab's libraries, an earlier instance's leftovers) hold live in it
 * when the instance is made: the free memory glibc keeps is this instance's to use
 * and is counted, after malloc_trim has given back what it can (so a run that
 * follows another starts from a heap as small as glibc can make it). One instance per
 * process: glibc has one heap. */
#include "backends.h"
#include "hl_kit.h"
#include "malloc_adapter.h"

#include <gnu/libc-version.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* glibc's own entry points, bound once from libc.so.6 (see the top of the file) */
static struct {
    void *lib;
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    void *(*memalign)(size_t, size_t); /* posix_memalign's contract, which the adapter keeps */
    void *(*calloc)(size_t, size_t);
    size_t (*usable)(void *);
    struct mallinfo2 (*info)(void);
    int (*trim)(size_t);
} glibc;

static void *held_at_brk; /* the program break at the last reading */
static bool thresholds_set; /* the environment moved glibc's mmap threshold */

static size_t glibc_held(void)
{
    held_at_brk = sbrk(0);
    struct mallinfo2 info = glibc.info();
    return info.arena + info.hblkhd;
}

/* glibc's main arena grows and shrinks only by moving the break, and it maps a block
 * of its own only from M_MMAP_THRESHOLD (128 KiB, raised as it goes, never lowered
 * unless the environment asks): no move and nothing of 64 KiB since, no change. */
static bool glibc_same(size_t largest) { return !thresholds_set && sbrk(0) == held_at_brk && largest < 65536; }

static size_t glibc_baseline(void)
{
    glibc.trim(0);
    struct mallinfo2 info = glibc.info();
    return info.uordblks + info.hblkhd;
}

static char glibc_source[96];
static bool glibc_live;
static hl_malloc_peer glibc_peer = {.name = "libc",
                                    .min_align = 16,
                                    .footprint = glibc_held,
                                    .baseline = glibc_baseline,
                                    .same_footprint = glibc_same,
                                    .source = glibc_source,
                                    .instance_live = &glibc_live};

static hl_error libc_create(const hl_config *config, hl_heap **out)
{
    hl_error e = hl_options_apply(config, "libc", NULL, NULL, NULL); /* it has none */
    if (e != HL_E_OK) return e;
    if (!glibc_source[0]) {
        const hl_malloc_entry entries[] = {
            HL_MALLOC_ENTRY("__libc_malloc", glibc.malloc),     HL_MALLOC_ENTRY("__libc_free", glibc.free),
            HL_MALLOC_ENTRY("__libc_realloc", glibc.realloc),   HL_MALLOC_ENTRY("__libc_memalign", glibc.memalign),
            HL_MALLOC_ENTRY("__libc_calloc", glibc.calloc),     HL_MALLOC_ENTRY("malloc_usable_size", glibc.usable),
            HL_MALLOC_ENTRY("mallinfo2", glibc.info),           HL_MALLOC_ENTRY("malloc_trim", glibc.trim)};
        if (!hl_malloc_bind(config, "libc", "libc.so.6", &glibc.lib, entries, 8)) return HL_E_UNSUPPORTED;
        glibc_peer.f = (hl_malloc_fns){glibc.malloc, glibc.free, glibc.realloc, glibc.memalign, glibc.calloc,
                                       glibc.usable};
        snprintf(glibc_source, sizeof glibc_source, "glibc %s (malloc); footprint: mallinfo2", gnu_get_libc_version());
    }
    const char *tunables = getenv("GLIBC_TUNABLES");
    thresholds_set = getenv("MALLOC_MMAP_THRESHOLD_") || (tunables && strstr(tunables, "mmap_threshold"));
    if (!hl_malloc_break_mover) return hl_malloc_adapter_create(&glibc_peer, config, out);
    /* another allocator moved the break in this process: glibc's arena figure counts
     * its growth too, so the footprint is not measured (a run in a process of its own
     * is: replay and report run each backend so) */
    static char disturbed[200];
    snprintf(disturbed, sizeof disturbed, "glibc %s (malloc); footprint not measured: %s moved the program break "
             "in this process", gnu_get_libc_version(), hl_malloc_break_mover);
    hl_malloc_peer peer = glibc_peer;
    peer.footprint = NULL, peer.baseline = NULL, peer.same_footprint = NULL, peer.source = disturbed;
    return hl_malloc_adapter_create(&peer, config, out);
}

const hl_backend *hl_backend_libc(void)
{
    static hl_backend table;
    return hl_malloc_adapter_table(&table, "libc",
                                   "glibc's malloc/free/realloc/memalign (its own, whatever else serves malloc), footprint from mallinfo2",
                                   NULL, libc_create);
}
