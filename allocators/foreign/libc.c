/* libc.c: the process's malloc (glibc here) as the foreign backend `libc`, through the
 * malloc adapter: malloc, free, realloc, posix_memalign above 16, malloc_usable_size.
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

static size_t glibc_held(void)
{
    struct mallinfo2 info = mallinfo2();
    return info.arena + info.hblkhd;
}

static size_t glibc_baseline(void)
{
    malloc_trim(0);
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

static void *glibc_aligned(size_t align, size_t size)
{
    void *p = NULL;
    return posix_memalign(&p, align, size) == 0 ? p : NULL;
}

static char glibc_source[96];
static bool glibc_live;
static const hl_malloc_peer glibc_peer = {.name = "libc",
                                          .f = {malloc, free, realloc, glibc_aligned, calloc, malloc_usable_size},
                                          .min_align = 16,
                                          .footprint = glibc_held,
                                          .baseline = glibc_baseline,
                                          .source = glibc_source,
                                          .instance_live = &glibc_live};

static hl_error libc_create(const hl_config *config, hl_heap **out)
{
    hl_error e = hl_options_apply(config, "libc", NULL, NULL, NULL); /* it has none */
    if (e != HL_E_OK) return e;
    if (!glibc_source[0])
        snprintf(glibc_source, sizeof glibc_source, "glibc %s (malloc); footprint: mallinfo2", gnu_get_libc_version());
    return hl_malloc_adapter_create(&glibc_peer, config, out);
}

const hl_backend *hl_backend_libc(void)
{
    static hl_backend table;
    return hl_malloc_adapter_table(&table, "libc",
                                   "the process's malloc/free/realloc/posix_memalign (glibc), footprint from mallinfo2",
                                   NULL, libc_create);
}
